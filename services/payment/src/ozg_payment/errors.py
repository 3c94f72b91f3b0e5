"""The payment service's problems; each also carries its XBezahldienste `errorCode`."""

from typing import Any, ClassVar

from ozg_common.problems import Problem, ProblemError

ERROR_CODE_BY_STATUS = {
    400: "VALIDATION_ERROR",
    401: "FORBIDDEN",
    403: "FORBIDDEN",
    404: "NO_VALID_ORIGINATOR_OR_ENDPOINT",
    409: "PAYMENT_EXISTS",
    422: "VALIDATION_ERROR",
}


def with_error_code(problem: Problem) -> Problem:
    """Add the XBezahldienste `errorCode` (and `errorMessage`) to a problem that lacks one."""
    extra = problem.model_extra or {}
    code = extra.get("errorCode") or ERROR_CODE_BY_STATUS.get(problem.status, "UNSPECIFIED")
    return problem.model_copy(
        update={
            "errorCode": code,
            "errorMessage": extra.get("errorMessage") or problem.detail or problem.title,
        }
    )


class PaymentError(ProblemError):
    """Root of the payment service's problems."""

    error_code: ClassVar[str] = "UNSPECIFIED"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("errorCode", self.error_code)
        super().__init__(detail, **kwargs)


class ValidationFailed(PaymentError):
    status = 422
    slug = "validation-error"
    title = "The payment request is invalid"
    error_code = "VALIDATION_ERROR"


class BookingDataMissing(PaymentError):
    status = 422
    slug = "booking-data-missing"
    title = "Booking data required by the fee schedule are missing"
    error_code = "BOOKING_DATA_MISSING"


class CalculationError(PaymentError):
    status = 422
    slug = "calculation-error"
    title = "The amount does not match the fee"
    error_code = "CALCULATION_ERROR"


class InvalidOriginatorOrEndpoint(PaymentError):
    status = 404
    slug = "no-valid-originator-or-endpoint"
    title = "Unknown originator or endpoint"
    error_code = "NO_VALID_ORIGINATOR_OR_ENDPOINT"


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


class PaymentExists(PaymentError):
    status = 409
    slug = "payment-exists"
    title = "A payment with this requestId exists with another body"
    error_code = "PAYMENT_EXISTS"


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
