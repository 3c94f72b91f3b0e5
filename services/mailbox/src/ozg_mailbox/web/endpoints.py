"""The citizen's web page: inbox, message with attachments and reply form, status timeline, profile."""

import inspect
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from ozg_common.db import SessionDep
from ozg_common.pagination import Offset
from ozg_common.problems import ProblemError, Unauthorized
from ozg_common.service import EventsUnavailable, KafkaWritable
from ozg_mailbox.applications import service as applications
from ozg_mailbox.applications.service import STATUS_LABELS
from ozg_mailbox.dependencies import verify_citizen_token
from ozg_mailbox.errors import LoginRefused, LoginUnavailable, MailboxError, NotACitizen, UnsafeNextPage
from ozg_mailbox.identity import EMAIL_PATTERN
from ozg_mailbox.messages import service
from ozg_mailbox.messages.endpoints import attachment_response
from ozg_mailbox.models import Application, Message
from ozg_mailbox.profile import service as profile
from ozg_mailbox.settings import MailboxSettings
from ozg_mailbox.state import StateDep
from ozg_mailbox.web.login import DEFAULT_NEXT_PAGE, Anmeldevorgang, CitizenOidc, safe_next_page
from ozg_mailbox.web.session import (
    CSRF_FIELD,
    ID_TOKEN_COOKIE,
    LOGIN_COOKIE,
    LoginRequired,
    WebCitizenDep,
    check_csrf,
    clear_login,
    clear_pending_login,
    csrf_token,
    remember_csrf,
    set_login,
    set_pending_login,
)

HERE = Path(__file__).parent
BERLIN = ZoneInfo("Europe/Berlin")
PAGE_SIZE = 20
NEXT_AFTER_LOGIN = re.compile(r"/web/(messages/[0-9a-f-]+|applications|profile)?")
"""Pages a citizen is sent back to after logging in (the inbox, a message, their applications, profile)."""
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
MESSAGES_DE = {
    400: "Die Anfrage war fehlerhaft.",
    403: "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu und versuchen Sie es erneut.",
    404: "Die gesuchte Seite oder Nachricht gibt es nicht (mehr).",
    409: "Auf diese Nachricht kann nicht geantwortet werden.",
    413: "Ihre Antwort ist zu groß. Bitte kürzen Sie den Text oder verkleinern Sie die Anhänge.",
    422: "Ein Anhang ist ungültig.",
    503: "Ihre Antwort kann gerade nicht angenommen werden. Bitte versuchen Sie es in Kürze erneut.",
}


def local_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(BERLIN).strftime("%d.%m.%Y, %H:%M Uhr")


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} Byte"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB".replace(".", ",")
    return f"{size / 1024 / 1024:.1f} MB".replace(".", ",")


templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["local_time"] = local_time
templates.env.filters["file_size"] = file_size
templates.env.globals["status_labels"] = STATUS_LABELS
templates.env.globals["csrf_field"] = CSRF_FIELD

router = APIRouter(prefix="/web", include_in_schema=False)


def content_security_policy(request: Request) -> str:
    """Forms post to this site only, and the logout form on to the IdP, which ends its session too
    (Chromium applies `form-action` to every redirect a form submission follows)."""
    oidc: CitizenOidc | None = request.app.state.mailbox.citizen_oidc
    form_action = f"'self' {oidc.origin}" if oidc else "'self'"
    return (
        f"default-src 'none'; style-src 'self'; img-src 'self'; form-action {form_action}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    context = {"csrf_token": csrf_token(request), **context}
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Security-Policy"] = content_security_policy(request)
    remember_csrf(request, response)
    return response


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER, headers={"Cache-Control": "no-store"})


STYLESHEET = (HERE / "static" / "mailbox.css").read_bytes()


@router.get("/static/mailbox.css")
async def stylesheet() -> Response:
    return Response(STYLESHEET, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request,
    state: StateDep,
    next_page: Annotated[str | None, Query(alias="next")] = None,
    logged_out: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    """Where a citizen without a session lands: one button to the citizen IdP."""
    context: dict[str, Any] = {"title": "Anmelden", "logged_out": logged_out, "available": True}
    context["start_url"] = "/web/auth/start?" + urlencode({"next": safe_next_page(next_page)})
    if state.citizen_oidc is None:
        context["available"] = False
        return page(request, "login.html", context, 503)
    return page(request, "login.html", context)


@router.get("/auth/start")
async def login_start(
    request: Request, state: StateDep, next_page: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    """Leave for the IdP's login page, keeping state, PKCE verifier and nonce in this browser."""
    if state.citizen_oidc is None:
        raise LoginUnavailable("Die Anmeldung ist für dieses Postfach nicht eingerichtet.")
    url, attempt = await state.citizen_oidc.start(safe_next_page(next_page))
    response = redirect(url)
    set_pending_login(request, response, attempt.to_cookie())
    return response


@router.get("/auth/callback", response_class=HTMLResponse)
async def login_callback(
    request: Request,
    session: SessionDep,
    state: StateDep,
    code: Annotated[str, Query()] = "",
    returned_state: Annotated[str, Query(alias="state")] = "",
    error: Annotated[str, Query()] = "",
) -> Response:
    """Back from the IdP: the pending login is used up whatever happens, so a code counts once."""
    if state.citizen_oidc is None:
        raise LoginUnavailable("Die Anmeldung ist für dieses Postfach nicht eingerichtet.")
    pending = request.cookies.get(LOGIN_COOKIE)
    try:
        state.citizen_oidc.check_redirect_uri(request.headers.get("host", ""), request.url.path)
        if error:
            raise LoginRefused(f"Der Anmeldedienst hat die Anmeldung abgebrochen ({error[:64]}).")
        attempt = Anmeldevorgang.from_cookie(pending)
        signed_in = await state.citizen_oidc.finish(attempt, returned_state, code)
        try:
            citizen = await verify_citizen_token(request, state, signed_in.access_token)
        except (Unauthorized, NotACitizen) as exc:
            raise LoginRefused(
                "Das Zugangs-Token des Anmeldedienstes öffnet dieses Postfach nicht "
                "(anderer Aussteller, andere Zielgruppe, abgelaufen oder ohne Bürger-Berechtigung)."
            ) from exc
    except LoginRefused as exc:
        response = login_refused_page(request, exc)
        clear_pending_login(request, response)
        return response
    await profile.record_login(session, citizen)
    # A page, not a redirect: the session cookies are SameSite=Strict, and a redirect chain begun
    # at the IdP would not send them; the page's own navigation to the inbox is same-site.
    response = page(request, "signed_in.html", {"title": "Angemeldet", "next_page": attempt.next_page})
    set_login(request, response, signed_in.access_token, signed_in.id_token)
    clear_pending_login(request, response)
    return response


def login_refused_page(request: Request, exc: MailboxError) -> HTMLResponse:
    context = {"title": "Anmelden", "error": exc.detail or exc.title, "available": True}
    context["start_url"] = "/web/auth/start?" + urlencode({"next": DEFAULT_NEXT_PAGE})
    return page(request, "login.html", context, exc.status)


@router.post("/logout")
async def logout(request: Request, state: StateDep) -> Response:
    """End the session here, then at the IdP (which sends the browser back to the login page)."""
    check_csrf(request, await request.form(max_files=0, max_fields=5))
    at_provider = None
    if state.citizen_oidc is not None:
        at_provider = await state.citizen_oidc.logout_url(request.cookies.get(ID_TOKEN_COOKIE))
    response = redirect(at_provider or "/web/login?logged_out=true")
    clear_login(request, response)
    return response


@router.get("", include_in_schema=False)
async def root() -> Response:
    return redirect("/web/")


@router.get("/", response_class=HTMLResponse)
async def inbox(
    request: Request,
    session: SessionDep,
    citizen: WebCitizenDep,
    unread: Annotated[bool, Query()] = False,
    offset: Offset = 0,
    deleted: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    mailbox = await profile.open_mailbox(session, citizen)
    rows, total = await service.page(
        session, mailbox.id, unread=True if unread else None, offset=offset, limit=PAGE_SIZE
    )
    return page(
        request,
        "inbox.html",
        {
            "title": "Posteingang",
            "nav": "inbox",
            "rows": rows,
            "total": total,
            "unread_only": unread,
            "unread_count": await service.unread_count(session, mailbox.id),
            "offset": offset,
            "page_size": PAGE_SIZE,
            "deleted": deleted,
        },
    )


@router.get("/messages/{message_id}", response_class=HTMLResponse)
async def message_view(
    message_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    state: StateDep,
    citizen: WebCitizenDep,
    sent: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    mailbox = await profile.open_mailbox(session, citizen)
    message, application = await service.open_message(session, state.outbox, mailbox.id, message_id)
    return _message_page(request, state.settings, message, application, sent=sent)


def _message_page(
    request: Request,
    settings: MailboxSettings,
    message: Message,
    application: Application,
    *,
    sent: bool = False,
    status_code: int = 200,
    **form_state: Any,
) -> HTMLResponse:
    context = {
        "title": message.title,
        "nav": "inbox",
        "message": message,
        "application": application,
        "sent": sent,
        "max_attachments": settings.reply_max_attachments,
        "max_bytes": settings.reply_max_total_bytes,
        "draft_title": f"Re: {message.title}"[:1024],
        "draft_content": "",
        **form_state,
    }
    return page(request, "message.html", context, status_code)


@router.get("/messages/{message_id}/attachments/{attachment_id}")
async def attachment_download(
    message_id: uuid.UUID,
    attachment_id: uuid.UUID,
    session: SessionDep,
    state: StateDep,
    citizen: WebCitizenDep,
) -> Response:
    attachment, data = await service.attachment_content(
        session, state.blobs, citizen.mailbox_id, message_id, attachment_id
    )
    return attachment_response(attachment.filename, attachment.mime_type, attachment.sha512, data)


@router.post("/messages/{message_id}/reply", response_class=HTMLResponse, dependencies=[KafkaWritable])
async def reply(
    message_id: uuid.UUID, request: Request, session: SessionDep, state: StateDep, citizen: WebCitizenDep
) -> Response:
    settings = state.settings
    form = await request.form(
        max_files=settings.reply_max_attachments + 1,
        max_fields=10,
        max_part_size=max(settings.reply_max_total_bytes, 4 * settings.reply_max_content_chars) + 1024,
    )
    check_csrf(request, form)
    title = str(form.get("title") or "").strip()
    content = str(form.get("content") or "").strip()
    files = [
        service.ReplyFile(
            filename=Path(upload.filename or "anhang").name[:255],
            mime_type=upload.content_type or "application/octet-stream",
            data=await upload.read(),
        )
        for upload in form.getlist("attachments")
        if isinstance(upload, UploadFile) and upload.filename
    ]
    errors = {}
    if not title or len(title) > 1024:
        errors["title"] = "Bitte geben Sie einen Betreff mit höchstens 1024 Zeichen an."
    if not content:
        errors["content"] = "Bitte schreiben Sie eine Nachricht."
    if errors:
        message, application = await service.message_in_mailbox(session, citizen.mailbox_id, message_id)
        return _message_page(
            request,
            settings,
            message,
            application,
            errors=errors,
            draft_title=title,
            draft_content=content,
            status_code=422,
        )
    draft = service.ReplyDraft(title=title, content=content, files=files)
    await service.reply(session, state.outbox, settings, citizen.mailbox_id, message_id, draft)
    return redirect(f"/web/messages/{message_id}?sent=true#antworten")


@router.post("/messages/{message_id}/delete")
async def delete(
    message_id: uuid.UUID, request: Request, session: SessionDep, state: StateDep, citizen: WebCitizenDep
) -> Response:
    check_csrf(request, await request.form(max_files=0, max_fields=5))
    await service.delete_message(session, state.blobs, citizen.mailbox_id, message_id)
    return redirect("/web/?deleted=true")


@router.get("/applications", response_class=HTMLResponse)
async def applications_view(request: Request, session: SessionDep, citizen: WebCitizenDep) -> HTMLResponse:
    rows, total = await applications.of_mailbox(session, citizen.mailbox_id, offset=0, limit=100)
    return page(
        request,
        "applications.html",
        {"title": "Meine Anträge", "nav": "applications", "applications": rows, "total": total},
    )


@router.get("/profile", response_class=HTMLResponse)
async def profile_view(request: Request, session: SessionDep, citizen: WebCitizenDep) -> HTMLResponse:
    mailbox = await profile.open_mailbox(session, citizen)
    return page(
        request, "profile.html", {"title": "Benachrichtigungen", "nav": "profile", "mailbox": mailbox}
    )


@router.post("/profile", response_class=HTMLResponse)
async def profile_update(request: Request, session: SessionDep, citizen: WebCitizenDep) -> Response:
    form = await request.form(max_files=0, max_fields=5)
    check_csrf(request, form)
    email = str(form.get("email") or "").strip()
    if email and (len(email) > 320 or not re.fullmatch(EMAIL_PATTERN, email)):
        mailbox = await profile.open_mailbox(session, citizen)
        context = {"title": "Benachrichtigungen", "nav": "profile", "mailbox": mailbox}
        context["error"] = "Bitte geben Sie eine gültige E-Mail-Adresse an, z. B. name@example.de."
        context["draft_email"] = email
        return page(request, "profile.html", context, 422)
    await profile.change_email(session, citizen, email or None)
    return redirect("/web/profile?saved=true")


async def _delegate(handler: Callable[..., Any], request: Request, exc: Exception) -> Response:
    """Hand an API path's error back to the suite's problem+json handler."""
    answer = handler(request, exc)
    response: Response = await answer if inspect.isawaitable(answer) else answer
    return response


def install_web(app: FastAPI) -> None:
    """Add the pages, and render errors on them as pages instead of problem+json."""
    app.include_router(router)
    api_problem_handler = app.exception_handlers[ProblemError]
    api_validation_handler = app.exception_handlers[RequestValidationError]
    api_http_handler = app.exception_handlers[StarletteHTTPException]

    def on_web(request: Request) -> bool:
        return request.url.path.startswith("/web/") or request.url.path == "/web"

    def error_page(request: Request, status_code: int) -> Response:
        text = MESSAGES_DE.get(status_code, "Es ist ein Fehler aufgetreten.")
        return page(
            request, "error.html", {"title": "Fehler", "text": text, "status": status_code}, status_code
        )

    async def on_login_required(request: Request, exc: Exception) -> Response:
        if request.method == "GET" and NEXT_AFTER_LOGIN.fullmatch(request.url.path):
            return redirect("/web/login?" + urlencode({"next": request.url.path}))
        return redirect("/web/login")

    async def on_problem(request: Request, exc: Exception) -> Response:
        if on_web(request) and isinstance(exc, (LoginRefused, UnsafeNextPage, LoginUnavailable)):
            return login_refused_page(request, exc)
        if on_web(request) and isinstance(exc, MailboxError | EventsUnavailable):
            response = error_page(request, exc.status)
            response.headers.update(exc.headers)  # Retry-After, where the problem has one
            return response
        return await _delegate(api_problem_handler, request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        if on_web(request):
            return error_page(request, 404)
        return await _delegate(api_validation_handler, request, exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        if on_web(request) and isinstance(exc, StarletteHTTPException):
            return error_page(request, exc.status_code)
        return await _delegate(api_http_handler, request, exc)

    app.add_exception_handler(LoginRequired, on_login_required)
    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
