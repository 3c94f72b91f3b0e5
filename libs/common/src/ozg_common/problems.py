"""RFC 9457 problem details: one error hierarchy root and the handlers that render it."""

import logging
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from ozg_common.db import database_unreachable

PROBLEM_MEDIA_TYPE = "application/problem+json"
DATABASE_RETRY_AFTER_SECONDS = 5
"""Retry-After of a request refused because the database could not be reached: a PostgreSQL restart
or fail-over takes seconds, and an earlier retry would only meet the same failure."""
DEFAULT_TYPE_BASE = "https://schema.ozg-router.de/problems/"

logger = logging.getLogger(__name__)


class InvalidParam(BaseModel):
    """One field that failed validation (RFC 9457 §3 example extension)."""

    name: str
    reason: str


class Problem(BaseModel):
    """The body of every error answer."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    invalid_params: list[InvalidParam] | None = None


class ProblemError(Exception):
    """Root of every service's error hierarchy; subclasses fix status, slug and title."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad Request"
    type_base: ClassVar[str] = DEFAULT_TYPE_BASE

    def __init__(
        self,
        detail: str | None = None,
        *,
        invalid_params: Sequence[InvalidParam] | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.invalid_params = list(invalid_params) if invalid_params else None
        self.headers = dict(headers or {})
        self.extensions = extensions

    @classmethod
    def type_uri(cls) -> str:
        return cls.type_base + cls.slug

    def to_problem(self, instance: str | None = None) -> Problem:
        return Problem(
            type=self.type_uri(),
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            invalid_params=self.invalid_params,
            **self.extensions,
        )


class BadRequest(ProblemError):
    status = 400
    slug = "bad-request"
    title = "Bad Request"


class Unauthorized(ProblemError):
    status = 401
    slug = "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extensions)


class Forbidden(ProblemError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(ProblemError):
    status = 404
    slug = "not-found"
    title = "Not Found"


class Conflict(ProblemError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class PreconditionFailed(ProblemError):
    status = 412
    slug = "precondition-failed"
    title = "Precondition Failed"


class PayloadTooLarge(ProblemError):
    status = 413
    slug = "payload-too-large"
    title = "Payload Too Large"


class UnsupportedMediaType(ProblemError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported Media Type"


class Unprocessable(ProblemError):
    status = 422
    slug = "unprocessable-entity"
    title = "Unprocessable Entity"


class TooManyRequests(ProblemError):
    status = 429
    slug = "too-many-requests"
    title = "Too Many Requests"


class ServiceUnavailable(ProblemError):
    status = 503
    slug = "service-unavailable"
    title = "Service Unavailable"


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True, by_alias=True),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"


def problem_schemas() -> dict[str, Any]:
    """The OpenAPI components the problem body needs (`Problem` and the models it refers to)."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**schema.pop("$defs", {}), "Problem": schema}


def problem_content() -> dict[str, Any]:
    """An OpenAPI media-type entry for a problem body, referring to the `Problem` component."""
    return {"schema": {"$ref": PROBLEM_SCHEMA_REF}}


def problem_responses(*errors: type[ProblemError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the errors a route may raise."""
    responses: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        entry = responses.setdefault(
            error.status, {"description": "", "content": {PROBLEM_MEDIA_TYPE: problem_content()}}
        )
        entry["description"] = ", ".join(filter(None, [entry["description"], error.slug]))
    return responses


def _field_name(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_problem(exc: RequestValidationError) -> ProblemError:
    """Malformed JSON or parameters are a 400; a well-formed body that breaks the schema a 422."""
    errors = exc.errors()
    params = [
        InvalidParam(name=_field_name(e.get("loc", ())), reason=str(e.get("msg", "invalid"))) for e in errors
    ]
    body_errors = [e for e in errors if tuple(e.get("loc", ()))[:1] == ("body",)]
    malformed = any(e.get("type") == "json_invalid" for e in errors)
    if body_errors and not malformed and len(body_errors) == len(errors):
        return Unprocessable("The request body does not match the schema.", invalid_params=params)
    detail = "The request body is not valid JSON." if malformed else "Invalid request parameters."
    return BadRequest(detail, invalid_params=params)


def install_problem_handlers(app: FastAPI) -> None:
    """Turn every error the app can raise into an application/problem+json answer."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(exc.to_problem(request.url.path), exc.headers)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problem = validation_problem(exc)
        return problem_response(problem.to_problem(request.url.path))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        status = HTTPStatus(exc.status_code)
        slug = status.phrase.lower().replace(" ", "-")
        problem = Problem(
            type=DEFAULT_TYPE_BASE + slug,
            title=status.phrase,
            status=status.value,
            detail=exc.detail if isinstance(exc.detail, str) else None,
            instance=request.url.path,
        )
        return problem_response(problem, exc.headers)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", extra={"path": request.url.path})
        problem = Problem(
            type=DEFAULT_TYPE_BASE + "internal-server-error",
            title="Internal Server Error",
            status=500,
            instance=request.url.path,
        )
        return problem_response(problem)

    async def as_problem(request: Request, error: ProblemError) -> Response:
        # Through the app's own ProblemError handler: a service may render its problems its own way
        # (payment answers XBezahldienste bodies).
        render = request.app.exception_handlers.get(ProblemError, on_problem)
        response: Response = await render(request, error)
        return response

    async def on_pool_exhausted(request: Request, exc: Exception) -> Response:
        # Every pooled database connection stayed busy for the pool's whole timeout: overload, which
        # the client may retry, not a fault of ours or theirs.
        logger.warning("no database connection free in time", extra={"path": request.url.path})
        busy = ServiceUnavailable(
            "All database connections are busy; try again shortly.", headers={"Retry-After": "1"}
        )
        return await as_problem(request, busy)

    async def on_database_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, sqlalchemy.exc.DBAPIError)
        if not database_unreachable(exc):
            raise exc  # a fault of the statement: answered 500 by on_unexpected, with its traceback
        # The database is down, restarting or cut off: the request's transaction rolled back (SessionDep),
        # so nothing of it is stored, and the same request may be sent again once the database is back.
        logger.warning(
            "database unreachable; request refused",
            extra={"path": request.url.path, "error": f"{type(exc).__name__}: {exc.orig}"},
        )
        unreachable = ServiceUnavailable(
            "The database cannot be reached; nothing was stored. Try again.",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
        return await as_problem(request, unreachable)

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(sqlalchemy.exc.TimeoutError, on_pool_exhausted)
    app.add_exception_handler(sqlalchemy.exc.DBAPIError, on_database_error)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
