"""Security Event Tokens (RFC 8417) as FIT-Connect's event log uses them: PS512, `secevent+jwt`."""

import base64
import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

SET_ALGORITHM = "PS512"
SET_TYPE = "secevent+jwt"
EVENT_BASE = "https://schema.fitko.de/fit-connect/events/"

CREATE = "create-submission"
SUBMIT = "submit-submission"
NOTIFY = "notify-submission"
FORWARD = "forward-submission"
ACCEPT = "accept-submission"
REJECT = "reject-submission"
DELETE = "delete-submission"
DECISIONS = (ACCEPT, REJECT)


def event_uri(name: str) -> str:
    return EVENT_BASE + name


def event_name(uri: str) -> str:
    """The FIT-Connect event name of an event type URI (the inverse of `event_uri`)."""
    return uri.removeprefix(EVENT_BASE)


@dataclass(frozen=True, slots=True)
class OwnEvent:
    """An event submission vouches for, as its log entry keeps it until the SET is first read."""

    event: str
    """The FIT-Connect event name, e.g. `submit-submission`."""
    submission_id: uuid.UUID
    case_id: uuid.UUID
    jti: uuid.UUID
    issued_at: datetime
    """When it happened: the SET's `iat`, whenever it is signed."""
    details: dict[str, Any]


def _numeric_date(at: datetime) -> int:
    """Seconds since the epoch."""
    return int(at.timestamp())


class EventSigner:
    """Signs the events submission itself vouches for, with its key published in the JWKS."""

    def __init__(self, key: RSAKey, issuer: str) -> None:
        self.key = key
        self.issuer = issuer

    def sign(self, event: OwnEvent) -> str:
        """The event's SET; CPU-bound (RSA). Signing the same event again gives the same claims."""
        payload = {
            "iss": self.issuer,
            "iat": _numeric_date(event.issued_at),
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


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """A SET a subscriber posted: which event about which submission of which case, by whom, when."""

    event: str
    submission_id: str
    case_id: str
    details: dict[str, Any]
    header: dict[str, Any]
    issuer: str
    issued_at: float
    expires_at: float | None = None


class SignatureRejected(ValueError):
    """The SET is not signed with the destination's signing key (or the destination has none)."""


class NotFresh(ValueError):
    """The SET was issued too long ago, in the future, or has expired."""


def _segment(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def read_event(token: str) -> ReceivedEvent:
    """Check a posted SET's shape (RFC 8417 + FIT-Connect claims); raises ValueError when wrong."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise ValueError("a SET is a JWS compact serialization of three parts")
    try:
        header, claims = _segment(parts[0]), _segment(parts[1])
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("the SET's header or claims are not base64url JSON") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("the SET's header and claims must be JSON objects")
    if header.get("typ") != SET_TYPE:
        raise ValueError(f"the SET header must have typ {SET_TYPE}")
    if header.get("alg") != SET_ALGORITHM:
        raise ValueError(f"the SET must be signed {SET_ALGORITHM}")
    sub, txn, events = claims.get("sub"), claims.get("txn"), claims.get("events")
    for claim in ("iss", "iat", "jti"):
        if claim not in claims:
            raise ValueError(f"the SET lacks the {claim} claim")
    iss, iat, exp = claims["iss"], claims["iat"], claims.get("exp")
    if not isinstance(iss, str):
        raise ValueError("iss must be a string")
    if not _is_number(iat) or (exp is not None and not _is_number(exp)):
        raise ValueError("iat and exp must be NumericDate values (seconds since the epoch)")
    if not isinstance(sub, str) or not sub.startswith("submission:"):
        raise ValueError("sub must be submission:<submissionId>")
    if not isinstance(txn, str) or not txn.startswith("case:"):
        raise ValueError("txn must be case:<caseId>")
    if not isinstance(events, dict) or len(events) != 1:
        raise ValueError("events must name exactly one event")
    uri, details = next(iter(events.items()))
    if not isinstance(uri, str) or not uri.startswith(EVENT_BASE):
        raise ValueError(f"unknown event type {uri}")
    return ReceivedEvent(
        event=uri[len(EVENT_BASE) :],
        submission_id=sub[len("submission:") :],
        case_id=txn[len("case:") :],
        details=details if isinstance(details, dict) else {},
        header=header,
        issuer=iss,
        issued_at=float(iat),
        expires_at=None if exp is None else float(exp),
    )


def _is_number(value: Any) -> bool:
    # JSON parsers take NaN and Infinity; neither is a time.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def verify_signature(token: str, received: ReceivedEvent, jwk: dict[str, Any] | None) -> None:
    """The SET verifies (PS512) with the destination's published signing key; CPU-bound (RSA)."""
    if jwk is None:
        raise SignatureRejected("the destination has no signature verification key registered")
    if received.header.get("kid") != jwk.get("kid"):
        raise SignatureRejected(
            f"the SET names key {received.header.get('kid')!r}, not the destination's signing key"
        )
    try:
        jws.deserialize_compact(token.strip(), RSAKey.import_key(jwk), algorithms=[SET_ALGORITHM])
    except (JoseError, ValueError, TypeError) as exc:
        raise SignatureRejected("the signature does not verify with the destination's signing key") from exc


def check_freshness(received: ReceivedEvent, *, now: float, max_age: float, skew: float) -> None:
    """`iat` within the last `max_age` seconds (and not ahead of us), `exp` (if any) not passed."""
    if received.issued_at > now + skew:
        raise NotFresh("the SET's iat lies in the future")
    if received.issued_at < now - max_age:
        raise NotFresh(f"the SET was issued more than {int(max_age)} seconds ago")
    if received.expires_at is not None and received.expires_at < now - skew:
        raise NotFresh("the SET has expired (exp)")
