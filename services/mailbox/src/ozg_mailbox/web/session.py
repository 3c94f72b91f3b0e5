"""Web session and form protection: the IdP's tokens in HttpOnly cookies, double-submit CSRF tokens."""

import dataclasses
import secrets
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from ozg_common.problems import Unauthorized
from ozg_mailbox.dependencies import verify_citizen_token
from ozg_mailbox.errors import CsrfRejected, LoginRefused, NotACitizen
from ozg_mailbox.identity import Citizen, mailbox_uuid
from ozg_mailbox.state import StateDep

TOKEN_COOKIE = "ozg_mailbox_token"
ID_TOKEN_COOKIE = "ozg_mailbox_id_token"
LOGIN_COOKIE = "ozg_mailbox_login"
"""The pending login (`Anmeldevorgang`) between leaving for the IdP and coming back."""
LOGIN_MAX_AGE = 600
CSRF_COOKIE = "ozg_mailbox_csrf"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No valid citizen login in the cookie: the page sends the browser to the login form."""


def secure_cookies(request: Request) -> bool:
    """Secure cookies whenever the page is served over https."""
    public_url: str = request.app.state.runtime.settings.public_base_url
    return request.url.scheme == "https" or public_url.startswith("https://")


async def web_citizen(request: Request, state: StateDep) -> Citizen:
    """The citizen of this browser's session: a valid access token, and the ID token of the same login."""
    token = request.cookies.get(TOKEN_COOKIE)
    id_token = request.cookies.get(ID_TOKEN_COOKIE)
    if not token or not id_token or state.citizen_oidc is None:
        raise LoginRequired()
    try:
        citizen = await verify_citizen_token(request, state, token)
        identity = await state.citizen_oidc.identity(id_token)
    except (Unauthorized, NotACitizen, LoginRefused) as exc:
        raise LoginRequired() from exc
    if mailbox_uuid(str(identity.claims.get("iss", "")), identity.subject) != citizen.mailbox_id:
        # Tokens of two different logins.
        raise LoginRequired()
    # OIDC Core: the trust level of the login is what the ID token says (eIDAS level or acr).
    level = identity.claims.get("stork_qaa_level") or identity.claims.get("acr")
    return dataclasses.replace(citizen, stork_qaa_level=str(level) if level else None)


WebCitizenDep = Annotated[Citizen, Depends(web_citizen)]


def set_login(request: Request, response: Response, access_token: str, id_token: str) -> None:
    for name, value in ((TOKEN_COOKIE, access_token), (ID_TOKEN_COOKIE, id_token)):
        response.set_cookie(
            name, value, httponly=True, samesite="strict", secure=secure_cookies(request), path="/web"
        )


def clear_login(request: Request, response: Response) -> None:
    for name in (TOKEN_COOKIE, ID_TOKEN_COOKIE):
        response.delete_cookie(
            name, httponly=True, samesite="strict", secure=secure_cookies(request), path="/web"
        )


def set_pending_login(request: Request, response: Response, value: str) -> None:
    # Lax, not Strict: the IdP's redirect back is a cross-site navigation that must carry it.
    response.set_cookie(
        LOGIN_COOKIE,
        value,
        max_age=LOGIN_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/web/auth",
    )


def clear_pending_login(request: Request, response: Response) -> None:
    response.delete_cookie(
        LOGIN_COOKIE, httponly=True, samesite="lax", secure=secure_cookies(request), path="/web/auth"
    )


def csrf_token(request: Request) -> str:
    """The browser's CSRF token (from its cookie, or a new one `remember_csrf` will set)."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token:
        token = request.state.new_csrf = secrets.token_urlsafe(32)
    return token


def remember_csrf(request: Request, response: Response) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="strict", secure=secure_cookies(request), path="/web"
        )


def check_csrf(request: Request, form: FormData) -> None:
    """Double submit: the form field must equal the cookie a cross-site page cannot read or set."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    field = form.get(CSRF_FIELD)
    if not cookie or not isinstance(field, str) or not secrets.compare_digest(cookie, field):
        raise CsrfRejected("Bitte laden Sie die Seite neu und senden Sie das Formular erneut.")
