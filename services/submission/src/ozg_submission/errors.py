"""submission's problem types: FIT-Connect's where the standard names them, ozg-router's otherwise."""

from typing import Any, ClassVar

from ozg_common.problems import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ProblemError,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
)

FIT_CONNECT_PROBLEMS = "https://schema.fitko.de/fit-connect/submission-api/problems/"


class SubmissionError(ProblemError):
    """Root of every error submission answers."""


class FitConnectError(SubmissionError):
    """An error of the FIT-Connect Submission API, typed as the standard types it."""

    type_base: ClassVar[str] = FIT_CONNECT_PROBLEMS


# --- OAuth2 token endpoint: problem details that also carry RFC 6749's `error` members


class TokenRequestError(SubmissionError, BadRequest):
    slug = "invalid-token-request"
    title = "Invalid token request"
    oauth_error: ClassVar[str] = "invalid_request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail, error=self.oauth_error, error_description=detail, **extensions)


class UnsupportedGrantType(TokenRequestError):
    slug = "unsupported-grant-type"
    title = "Only client_credentials is supported"
    oauth_error = "unsupported_grant_type"


class InvalidScope(TokenRequestError):
    slug = "invalid-scope"
    title = "The client may not request this scope"
    oauth_error = "invalid_scope"


class TokenRequestsThrottled(SubmissionError, TooManyRequests):
    """Failed token requests for one client id or from one address used up their ration."""

    slug = "token-requests-throttled"
    title = "Too many failed token requests"

    def __init__(self, detail: str, *, limit: str, headers: dict[str, str]) -> None:
        super().__init__(detail, headers=headers)
        self.limit = limit


class InvalidClient(SubmissionError, Unauthorized):
    slug = "invalid-client"
    title = "Unknown client or wrong secret"

    def __init__(self) -> None:
        super().__init__(self.title, error="invalid_client", error_description=self.title)


# --- Administration


class ClientNotFound(SubmissionError, NotFound):
    slug = "client-not-found"
    title = "Client not found"


class ClientExists(SubmissionError, Conflict):
    slug = "client-exists"
    title = "A client with this id exists"


class AdministratorLockOut(SubmissionError, Conflict):
    """A change that would leave nobody able to administer the suite."""

    slug = "administrator-lock-out"
    title = "The change would lock the administrators out"


# --- Access


class NotPermitted(SubmissionError, Forbidden):
    slug = "forbidden"
    title = "This token may not do that"


# --- FIT-Connect Submission API


class DestinationNotFound(FitConnectError, NotFound):
    slug = "destination-not-found"
    title = "Destination not found"


class KeyNotFound(FitConnectError, NotFound):
    slug = "key-not-found"
    title = "Key not found"


class DestinationStateInvalid(FitConnectError, Unprocessable):
    slug = "destination-state-invalid"
    title = "The destination does not accept submissions"


class ServiceNotOffered(FitConnectError, Unprocessable):
    slug = "service-not-offered"
    title = "The destination does not offer this service"


class SubmissionNotFound(FitConnectError, NotFound):
    slug = "submission-not-found"
    title = "Submission not found"


class CaseNotFound(FitConnectError, NotFound):
    slug = "case-not-found"
    title = "Case not found"


class AttachmentNotFound(FitConnectError, NotFound):
    slug = "attachment-not-found"
    title = "Attachment not found"


class AttachmentNotAnnounced(FitConnectError, Unprocessable):
    slug = "attachment-not-announced"
    title = "The attachment was not announced when the submission was created"


class MissingAttachments(FitConnectError, Unprocessable):
    slug = "missing-attachments"
    title = "Announced attachments were not uploaded"


class SubmissionStateInvalid(FitConnectError, Conflict):
    slug = "submission-state-invalid"
    title = "The submission is not in a state that allows this"


class InvalidJwe(FitConnectError, BadRequest):
    slug = "invalid-jwe"
    title = "The body is not a JWE compact serialization"


class JweHeaderInvalid(FitConnectError, Unprocessable):
    slug = "invalid-jwe-header"
    title = "The JWE header lacks a required value"


class InvalidSecurityEventToken(FitConnectError, Unprocessable):
    slug = "invalid-security-event-token"
    title = "The body is not an acceptable Security Event Token"


class SecurityEventTokenSignatureInvalid(InvalidSecurityEventToken):
    slug = "invalid-security-event-token-signature"
    title = "The Security Event Token is not signed with the destination's signing key"


class SecurityEventTokenExpired(InvalidSecurityEventToken):
    slug = "security-event-token-expired"
    title = "The Security Event Token was issued too long ago (or in the future)"


class SecurityEventTokenReplayed(InvalidSecurityEventToken):
    slug = "security-event-token-replayed"
    title = "A Security Event Token with this jti was recorded before"


class AuthenticationTagsMismatch(InvalidSecurityEventToken):
    slug = "authentication-tags-mismatch"
    title = "The authenticationTags differ from those of the submission as submitted"


class TooLarge(FitConnectError, PayloadTooLarge):
    slug = "payload-too-large"
    title = "The request exceeds a limit"


class WrongMediaType(FitConnectError, UnsupportedMediaType):
    slug = "unsupported-media-type"
    title = "Unsupported media type"


# --- Native intake


class InvalidApplication(SubmissionError, BadRequest):
    slug = "invalid-application"
    title = "The application request is malformed"


class CallbackInvalid(SubmissionError, Unprocessable):
    """A callback's URL or secret cannot be used."""

    slug = "callback-invalid"
    title = "The callback URL or secret is not acceptable"


class ApplicationNotFound(SubmissionError, NotFound):
    slug = "application-not-found"
    title = "Application not found"


class ServiceNotFound(SubmissionError, NotFound):
    slug = "service-not-found"
    title = "Service not known"


class RouteNotFound(SubmissionError, NotFound):
    slug = "route-not-found"
    title = "No destination is responsible for this service in this area"


class AmbiguousArea(SubmissionError, Unprocessable):
    slug = "ambiguous-area"
    title = "Several destinations are responsible; choose one by its destinationSignature"


class InvalidDestinationSignature(SubmissionError, Unprocessable):
    slug = "invalid-destination-signature"
    title = "The destinationSignature is not a valid route signed by zufi"


class FormDataInvalid(SubmissionError, Unprocessable):
    slug = "form-data-invalid"
    title = "The form data does not match the service's schema"


class XmlRejectedProblem(SubmissionError, BadRequest):
    slug = "xml-rejected"
    title = "The XML document was refused"


class XmlSchemaInvalid(SubmissionError, Unprocessable):
    slug = "xml-schema-invalid"
    title = "The XML message does not conform to its XSD"


class MetadataInvalid(SubmissionError, Unprocessable):
    """The FIT-Connect metadata of an application would not conform to its published schema."""

    slug = "metadata-invalid"
    title = "The metadata does not conform to its FIT-Connect schema"


class MetadataVersionNotTaken(SubmissionError, Unprocessable):
    slug = "metadata-version-not-taken"
    title = "The destination takes no metadata version the suite writes"


class ZufiUnavailable(SubmissionError, ServiceUnavailable):
    slug = "zufi-unavailable"
    title = "The competence finder cannot be asked right now"
