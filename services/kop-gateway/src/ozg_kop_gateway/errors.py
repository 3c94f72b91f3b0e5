"""The problems kop-gateway answers with (RFC 9457); one hierarchy rooted in `KopGatewayError`."""

from ozg_common.problems import ProblemError


class KopGatewayError(ProblemError):
    """Root of the kop-gateway's errors."""


class CaseNotFound(KopGatewayError):
    status = 404
    slug = "case-not-found"
    title = "Case not found"


class DeliveryNotFound(KopGatewayError):
    status = 404
    slug = "delivery-not-found"
    title = "Delivery not found"


class DestinationNotFound(KopGatewayError):
    status = 404
    slug = "destination-not-found"
    title = "Destination not found"


class NotADestination(KopGatewayError):
    status = 403
    slug = "destination-scope-required"
    title = "A destination token is required"


class CaseAlreadyDecided(KopGatewayError):
    status = 409
    slug = "case-already-decided"
    title = "The case was already acknowledged otherwise"


class DeliveryNotReplayable(KopGatewayError):
    status = 409
    slug = "delivery-not-dead-lettered"
    title = "Only dead-lettered deliveries can be replayed"


class InvalidAttachment(KopGatewayError):
    status = 422
    slug = "attachment-invalid"
    title = "Attachment content is not valid base64"


class InvalidSecret(KopGatewayError):
    status = 422
    slug = "webhook-secret-invalid"
    title = "The webhook secret is not acceptable"


class PayloadTooLarge(KopGatewayError):
    status = 413
    slug = "payload-too-large"
    title = "Payload Too Large"
