"""The demo receiver's problems (RFC 9457), one hierarchy."""

from typing import ClassVar

from ozg_common.problems import ProblemError


class ReceiverError(ProblemError):
    """Root of the demo receiver's errors."""


class SignatureInvalid(ReceiverError):
    status: ClassVar[int] = 401
    slug: ClassVar[str] = "signature-invalid"
    title: ClassVar[str] = "Webhook signature invalid"


class EnvelopeInvalid(ReceiverError):
    status: ClassVar[int] = 422
    slug: ClassVar[str] = "envelope-invalid"
    title: ClassVar[str] = "Delivery envelope invalid"


class ControlForbidden(ReceiverError):
    status: ClassVar[int] = 403
    slug: ClassVar[str] = "control-forbidden"
    title: ClassVar[str] = "Control token missing or wrong"


class ApplicationNotFound(ReceiverError):
    status: ClassVar[int] = 404
    slug: ClassVar[str] = "application-not-found"
    title: ClassVar[str] = "Application not found"


class SimulatedOutage(ReceiverError):
    """The answer while the control endpoint has switched the receiver to fail."""

    status: ClassVar[int] = 503
    slug: ClassVar[str] = "simulated-outage"
    title: ClassVar[str] = "Receiver unavailable (simulated)"
