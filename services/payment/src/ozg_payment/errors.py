"""The payment service's problems: RFC 9457 bodies in the shape of the XBezahldienste error.

XBezahldienste answers an error as problem+json (`type`, `title`, `status`) that names the error
by its code (`errorCode`) and explains it in `functionalText`. The functional errors of a payment
request (VALIDATION_ERROR, CALCULATION_ERROR, BOOKING_DATA_MISSING, PAYMENT_EXISTS,
NO_VALID_ORIGINATOR_OR_ENDPOINT) are a `400 Bad Request`; a caller without the right is FORBIDDEN.
"""

import re
from typing import Any, ClassVar, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ozg_common.problems import InvalidParam, Problem, ProblemError, problem_response

ErrorCode = Literal[
    "NO_VALID_ORIGINATOR_OR_ENDPOINT",
    "PAYMENT_EXISTS",
    "CALCULATION_ERROR",
    "BOOKING_DATA_MISSING",
    "VALIDATION_ERROR",
    "FORBIDDEN",
    "UNSPECIFIED",
]
"""The XBezahldienste error codes."""

FUNCTIONAL_TEXT_MAX_LENGTH = 2000
FUNCTIONAL_TEXT_FORBIDDEN = re.compile(r"[^\w\s,.\u00C0-\u017F-]+")
CODE_BY_STATUS: dict[int, ErrorCode] = {
    400: "VALIDATION_ERROR",
    401: "FORBIDDEN",
    403: "FORBIDDEN",
    404: "NO_VALID_ORIGINATOR_OR_ENDPOINT",
    422: "VALIDATION_ERROR",
}
"""The code of a problem raised outside this hierarchy (the shared auth and validation)."""


def functional_text(text: str) -> str:
    """`text` as the standard's functionalText allows it: words, spaces, commas, dots, hyphens and
    accented letters, at most 2000 characters (other signs become spaces; `detail` keeps them)."""
    words = " ".join(FUNCTIONAL_TEXT_FORBIDDEN.sub(" ", text).split())
    return (words or "Fehler")[:FUNCTIONAL_TEXT_MAX_LENGTH]


def xbezahldienste_problem(problem: Problem, code: ErrorCode | None = None) -> Problem:
    """`problem` with its XBezahldienste `errorCode` (the one it carries, else the one its status
    implies) and its `functionalText`."""
    text = functional_text(problem.detail or problem.title)
    code = (
        code
        or (problem.model_extra or {}).get("errorCode")
        or CODE_BY_STATUS.get(problem.status, "UNSPECIFIED")
    )
    return problem.model_copy(update={"errorCode": code, "functionalText": text})


class PaymentError(ProblemError):
    """Root of the payment service's problems; each has its XBezahldienste code."""

    error_code: ClassVar[ErrorCode] = "UNSPECIFIED"

    def to_problem(self, instance: str | None = None) -> Problem:
        return xbezahldienste_problem(super().to_problem(instance), self.error_code)


class ValidationFailed(PaymentError):
    status = 400
    slug = "validation-error"
    title = "The payment request is invalid"
    error_code = "VALIDATION_ERROR"


class BookingDataMissing(PaymentError):
    status = 400
    slug = "booking-data-missing"
    title = "Booking data required by the fee schedule are missing"
    error_code = "BOOKING_DATA_MISSING"


class CalculationError(PaymentError):
    status = 400
    slug = "calculation-error"
    title = "The amount does not match the fee"
    error_code = "CALCULATION_ERROR"


class InvalidOriginatorOrEndpoint(PaymentError):
    status = 400
    slug = "no-valid-originator-or-endpoint"
    title = "Unknown originator or endpoint"
    error_code = "NO_VALID_ORIGINATOR_OR_ENDPOINT"


class PaymentExists(PaymentError):
    status = 400
    slug = "payment-exists"
    title = "A payment with this requestId exists"
    error_code = "PAYMENT_EXISTS"


class TransactionNotFound(PaymentError):
    status = 404
    slug = "transaction-not-found"
    title = "No such payment transaction"
    error_code = "NO_VALID_ORIGINATOR_OR_ENDPOINT"


class ServiceNotFound(PaymentError):
    status = 404
    slug = "service-not-found"
    title = "No fee schedule for this service"
    error_code = "UNSPECIFIED"


class NotYourTransaction(PaymentError):
    status = 403
    slug = "forbidden"
    title = "This transaction belongs to another client"
    error_code = "FORBIDDEN"


class ProviderUnavailable(PaymentError):
    status = 503
    slug = "provider-unavailable"
    title = "The payment service provider is unavailable"
    error_code = "UNSPECIFIED"


class ProviderRejected(PaymentError):
    status = 502
    slug = "provider-rejected"
    title = "The payment service provider refused the transaction"
    error_code = "UNSPECIFIED"


def install_error_handler(app: FastAPI) -> None:
    """Every problem this service answers is an XBezahldienste error body; invalid input is a
    VALIDATION_ERROR naming each invalid field."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(xbezahldienste_problem(exc.to_problem(request.url.path)), exc.headers)

    async def on_invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        invalid = ValidationFailed(_validation_text(errors), invalid_params=_invalid_params(errors))
        return problem_response(invalid.to_problem(request.url.path))

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_invalid)


def _field(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _invalid_params(errors: Any) -> list[InvalidParam]:
    return [
        InvalidParam(name=_field(tuple(error.get("loc", ()))), reason=str(error.get("msg", "invalid")))
        for error in errors
    ]


def _validation_text(errors: Any) -> str:
    if any(error.get("type") == "json_invalid" for error in errors):
        return "The request body is not valid JSON."
    fields = sorted({_field(tuple(error.get("loc", ()))) for error in errors})
    return "Invalid fields: " + ", ".join(fields)
