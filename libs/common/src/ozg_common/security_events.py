"""FIT-Connect's Security Event Tokens (RFC 8417, SET payload 1.x): the rules every SET of an event
log follows, and the verifier senders, subscribers and the suite itself check them with.

Header `{"typ": "secevent+jwt", "alg": "PS512", "kid"}`; payload `$schema`, `iss`, `iat`, `jti`,
`sub` (`submission:<uuid>` or `reply:<uuid>`), `txn` (`case:<uuid>`) and exactly one event, whose
URI is one of FIT-Connect's. `submit-submission` and `accept-submission` carry
`authenticationTags`: the GCM tags (fifth segments) of the metadata, data and attachment JWEs.
"""

import base64
import json
import math
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

SET_TYPE = "secevent+jwt"
SET_ALGORITHM = "PS512"
SET_PAYLOAD_SCHEMA = "https://schema.fitko.de/fit-connect/set-payload/1.2.2/set-payload.schema.json"
"""The SET payload schema our own SETs declare."""
SET_PAYLOAD_SCHEMA_PATTERN = re.compile(
    r"^https://schema\.fitko\.de/fit-connect/set-payload/1\.\d+\.\d+/set-payload\.schema\.json$"
)
"""The SET payload versions (1.x) a SET may declare; the testing environment's SETs say 1.0.0."""
EVENT_BASE = "https://schema.fitko.de/fit-connect/events/"

CREATE = "create-submission"
SUBMIT = "submit-submission"
NOTIFY = "notify-submission"
FORWARD = "forward-submission"
ACCEPT = "accept-submission"
REJECT = "reject-submission"
DELETE = "delete-submission"
CREATE_REPLY = "create-reply"
SUBMIT_REPLY = "submit-reply"
REJECT_REPLY = "reject-reply"
EVENTS = frozenset(
    {CREATE, SUBMIT, NOTIFY, FORWARD, ACCEPT, REJECT, DELETE, CREATE_REPLY, SUBMIT_REPLY, REJECT_REPLY}
)
"""The FIT-Connect event names."""
WITH_AUTHENTICATION_TAGS = frozenset({SUBMIT, ACCEPT})
"""The events that carry `authenticationTags`."""

_SUBJECT = re.compile(r"^(submission|reply):([0-9a-fA-F-]{36})$")
_TRANSACTION = re.compile(r"^case:([0-9a-fA-F-]{36})$")
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")


def event_uri(name: str) -> str:
    return EVENT_BASE + name


def event_name(uri: str) -> str:
    """The FIT-Connect event name of an event type URI (the inverse of `event_uri`)."""
    return uri.removeprefix(EVENT_BASE)


def authentication_tag(jwe: str) -> str:
    """The authentication tag of a JWE compact string: its fifth segment, as received."""
    return jwe.strip().rsplit(".", 1)[-1]


class InvalidSecurityEvent(ValueError):
    """The token breaks a rule of FIT-Connect's SETs."""


class SignatureInvalid(InvalidSecurityEvent):
    """The SET does not verify with the key it names (or no such key is known)."""


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """A SET that follows the rules: its header, its claims and its one event."""

    header: dict[str, Any]
    claims: dict[str, Any]
    event: str
    """The FIT-Connect event name, e.g. `accept-submission`."""
    details: dict[str, Any]
    """The event's payload object."""
    subject_kind: str
    """`submission` or `reply`."""
    subject_id: uuid.UUID
    case_id: uuid.UUID
    issuer: str
    issued_at: float
    jti: uuid.UUID
    expires_at: float | None


def _json_object(part: str, what: str) -> dict[str, Any]:
    """A base64url JSON object of the SET: `what` (its header or claims) names it in the error."""
    try:
        found = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidSecurityEvent(f"the SET's {what} must be base64url JSON") from exc
    if not isinstance(found, dict):
        raise InvalidSecurityEvent(f"the SET's {what} must be a JSON object")
    return found


def _parts(token: str) -> list[str]:
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidSecurityEvent("a SET is a JWS compact serialization of three parts")
    return parts


def read_header(token: str) -> dict[str, Any]:
    """The SET's protected header, checked: `typ` secevent+jwt, `alg` PS512, a `kid`."""
    header = _json_object(_parts(token)[0], "header")
    if header.get("typ") != SET_TYPE:
        raise InvalidSecurityEvent(f"the SET header must have typ {SET_TYPE}")
    if header.get("alg") != SET_ALGORITHM:
        raise InvalidSecurityEvent(f"the SET must be signed {SET_ALGORITHM}")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise InvalidSecurityEvent("the SET header must name its key (kid)")
    return header


def read(token: str) -> SecurityEvent:
    """The SET's header and payload, checked against the rules (the signature is not checked)."""
    return _checked(read_header(token), _json_object(_parts(token)[1], "claims"))


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidSecurityEvent(f"{what} is not a UUID") from exc


def _checked(header: dict[str, Any], claims: dict[str, Any]) -> SecurityEvent:
    schema = claims.get("$schema")
    if not isinstance(schema, str) or not SET_PAYLOAD_SCHEMA_PATTERN.match(schema):
        raise InvalidSecurityEvent(
            "$schema must name the SET payload schema 1.x "
            "(https://schema.fitko.de/fit-connect/set-payload/<version>/set-payload.schema.json)"
        )
    for claim in ("iss", "iat", "jti", "sub", "txn", "events"):
        if claim not in claims:
            raise InvalidSecurityEvent(f"the SET lacks the {claim} claim")
    iss, iat, exp = claims["iss"], claims["iat"], claims.get("exp")
    if not isinstance(iss, str) or not iss:
        raise InvalidSecurityEvent("iss must be a non-empty string")
    if not _is_number(iat) or (exp is not None and not _is_number(exp)):
        raise InvalidSecurityEvent("iat and exp must be NumericDate values (seconds since the epoch)")
    if not isinstance(claims["jti"], str):
        raise InvalidSecurityEvent("jti must be a string")
    jti = _uuid(claims["jti"], "jti")
    subject = _SUBJECT.match(claims["sub"]) if isinstance(claims["sub"], str) else None
    if subject is None:
        raise InvalidSecurityEvent("sub must be submission:<uuid> or reply:<uuid>")
    transaction = _TRANSACTION.match(claims["txn"]) if isinstance(claims["txn"], str) else None
    if transaction is None:
        raise InvalidSecurityEvent("txn must be case:<uuid>")
    events = claims["events"]
    if not isinstance(events, dict) or len(events) != 1:
        raise InvalidSecurityEvent("events must name exactly one event")
    uri, details = next(iter(events.items()))
    name = event_name(uri)
    if not uri.startswith(EVENT_BASE) or name not in EVENTS:
        raise InvalidSecurityEvent(f"unknown event type {uri}")
    if not isinstance(details, dict):
        raise InvalidSecurityEvent("the event's payload must be a JSON object")
    if name in WITH_AUTHENTICATION_TAGS:
        check_authentication_tags(details.get("authenticationTags"))
    return SecurityEvent(
        header=header,
        claims=claims,
        event=name,
        details=details,
        subject_kind=subject.group(1),
        subject_id=_uuid(subject.group(2), "sub"),
        case_id=_uuid(transaction.group(1), "txn"),
        issuer=iss,
        issued_at=float(iat),
        jti=jti,
        expires_at=None if exp is None else float(exp),
    )


def check_authentication_tags(tags: Any) -> None:
    """`authenticationTags`: `metadata` and `data` (each where sent) and `attachments` by id, each a
    base64url GCM tag."""
    if not isinstance(tags, dict):
        raise InvalidSecurityEvent("the event must carry authenticationTags")
    if unknown := set(tags) - {"metadata", "data", "attachments"}:
        raise InvalidSecurityEvent(f"authenticationTags has unknown members {sorted(unknown)}")
    for part in ("metadata", "data"):
        if part in tags and not _is_tag(tags[part]):
            raise InvalidSecurityEvent(f"authenticationTags.{part} must be a base64url tag")
    attachments = tags.get("attachments", {})
    if not isinstance(attachments, dict) or not all(
        _is_tag(tag) and _is_uuid(attachment_id) for attachment_id, tag in attachments.items()
    ):
        raise InvalidSecurityEvent("authenticationTags.attachments maps attachment ids to base64url tags")


def _is_tag(value: Any) -> bool:
    return isinstance(value, str) and _BASE64URL.match(value) is not None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_number(value: Any) -> bool:
    # JSON parsers take NaN and Infinity; neither is a time.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def verify_signature(token: str, key: RSAKey | Mapping[str, Any]) -> None:
    """The SET's PS512 signature verifies with `key` (a public JWK or key); CPU-bound (RSA)."""
    try:
        public = key if isinstance(key, RSAKey) else RSAKey.import_key(dict(key))
        jws.deserialize_compact(token.strip(), public, algorithms=[SET_ALGORITHM])
    except (JoseError, ValueError, TypeError) as exc:
        raise SignatureInvalid("the signature does not verify with the signing key") from exc


def verify(token: str, keys: KeySet | Mapping[str, Any]) -> SecurityEvent:
    """A SET that follows the rules and verifies with the key of `keys` (a JWKS) its `kid` names;
    CPU-bound (RSA)."""
    header = read_header(token)
    key_set = keys if isinstance(keys, KeySet) else KeySet.import_key_set(dict(keys))  # type: ignore[arg-type]
    matching = [key for key in key_set.keys if key.kid == header["kid"]]
    if len(matching) != 1 or not isinstance(matching[0], RSAKey):
        raise SignatureInvalid(f"no RSA key {header['kid']!r} to verify the SET with")
    verify_signature(token, matching[0])
    return read(token)


@dataclass(frozen=True, slots=True)
class OwnEvent:
    """An event a service vouches for under its own `iss`: what its SET states."""

    event: str
    """The FIT-Connect event name, e.g. `submit-submission`."""
    submission_id: uuid.UUID
    case_id: uuid.UUID
    jti: uuid.UUID
    issued_at: datetime
    """When it happened: the SET's `iat`, whenever it is signed."""
    details: dict[str, Any]


class EventSigner:
    """Signs the events a service vouches for, with its key (published in its JWKS) as `issuer`."""

    def __init__(self, key: RSAKey, issuer: str) -> None:
        self.key = key
        self.issuer = issuer

    def sign(self, event: OwnEvent) -> str:
        """The event's SET; CPU-bound (RSA). Signing the same event again gives the same claims."""
        payload = {
            "$schema": SET_PAYLOAD_SCHEMA,
            "iss": self.issuer,
            "iat": int(event.issued_at.timestamp()),
            "jti": str(event.jti),
            "sub": f"submission:{event.submission_id}",
            "txn": f"case:{event.case_id}",
            "events": {event_uri(event.event): event.details},
        }
        header = {"alg": SET_ALGORITHM, "typ": SET_TYPE, "kid": self.key.kid}
        return jws.serialize_compact(
            header, json.dumps(payload, separators=(",", ":")).encode(), self.key, algorithms=[SET_ALGORITHM]
        )

    def sign_all(self, events: Sequence[OwnEvent]) -> list[str]:
        """Several events' SETs, in order (one thread hop for all of them)."""
        return [self.sign(event) for event in events]
