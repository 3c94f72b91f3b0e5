"""zufi's problem types: one root, a concrete error per thing that can go wrong."""

from ozg_common.problems import (
    BadRequest,
    Conflict,
    NotFound,
    PreconditionFailed,
    ProblemError,
    TooManyRequests,
    Unprocessable,
)


class ZufiError(ProblemError):
    """Root of every error zufi answers."""


class InvalidLeikaKey(ZufiError, BadRequest):
    slug = "invalid-leika-key"
    title = "Malformed LeiKa key"


class InvalidAreaKey(ZufiError, BadRequest):
    slug = "invalid-area-key"
    title = "Malformed ARS or AGS"


class InvalidPostalCode(ZufiError, BadRequest):
    slug = "invalid-postal-code"
    title = "Malformed postal code"


class InvalidAreaQuery(ZufiError, BadRequest):
    slug = "invalid-area-query"
    title = "Name exactly one area: ars, ags, postalCode or areaId"


class ServiceNotFound(ZufiError, NotFound):
    slug = "service-not-found"
    title = "Service not found"


class AreaNotFound(ZufiError, NotFound):
    slug = "area-not-found"
    title = "Area not found"


class DestinationNotFound(ZufiError, NotFound):
    slug = "destination-not-found"
    title = "Destination not found"


class KeyNotFound(ZufiError, NotFound):
    slug = "key-not-found"
    title = "Key not found"


class AuthorityNotFound(ZufiError, NotFound):
    slug = "authority-not-found"
    title = "Authority not found"


class ResponsibilityNotFound(ZufiError, NotFound):
    slug = "responsibility-not-found"
    title = "Responsibility not found"


class InvalidImport(ZufiError, Unprocessable):
    slug = "invalid-import"
    title = "The import refers to unknown records or holds invalid rows"


class RateLimited(ZufiError, TooManyRequests):
    slug = "rate-limited"
    title = "Too many requests"


class AuthorityChanged(ZufiError, PreconditionFailed):
    slug = "authority-changed"
    title = "The authority has changed since it was read (If-Match)"


class UnknownReference(ZufiError, Unprocessable):
    slug = "unknown-reference"
    title = "The body refers to a service, area or authority that does not exist"


class InvalidEncryptionKey(ZufiError, Unprocessable):
    slug = "invalid-encryption-key"
    title = "The encryption key is not a public RSA key of at least 4096 bits"


class InvalidSigningKey(ZufiError, Unprocessable):
    slug = "invalid-signing-key"
    title = "The signing key is not a public RSA key of at least 4096 bits for PS512"


class DestinationIdConflict(ZufiError, Conflict):
    slug = "destination-id-conflict"
    title = "The destination id belongs to another authority"
