"""Web login and form protection: the token in an HttpOnly cookie, double-submit CSRF tokens."""

import secrets
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from ozg_common.problems import Unauthorized
from ozg_mailbox.dependencies import verify_citizen_token
from ozg_mailbox.errors import CsrfRejected, NotACitizen
from ozg_mailbox.identity import Citizen
from ozg_mailbox.state import StateDep

TOKEN_COOKIE = "ozg_mailbox_token"
CSRF_COOKIE = "ozg_mailbox_csrf"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No valid citizen login in the cookie: the page sends the browser to the login form."""


def secure_cookies(request: Request) -> bool:
    """Secure cookies whenever the page is served over https."""
    public_url: str = request.app.state.runtime.settings.public_base_url
    return request.url.scheme == "https" or public_url.startswith("https://")


async def web_citizen(request: Request, state: StateDep) -> Citizen:
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        raise LoginRequired()
    try:
        return await verify_citizen_token(request, state, token)
    except (Unauthorized, NotACitizen) as exc:
        raise LoginRequired() from exc


WebCitizenDep = Annotated[Citizen, Depends(web_citizen)]


def set_login(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/web",
    )


def clear_login(request: Request, response: Response) -> None:
    response.delete_cookie(
        TOKEN_COOKIE, httponly=True, samesite="strict", secure=secure_cookies(request), path="/web"
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
