"""Our own Security Event Tokens (FIT-Connect SET payload 1.2.2, PS512, `secevent+jwt`), and the
freshness rule for the SETs destinations post."""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jws
from joserfc.jwk import RSAKey

from ozg_common.security_events import (
    ACCEPT,
    FORWARD,
    REJECT,
    SET_ALGORITHM,
    SET_PAYLOAD_SCHEMA,
    SET_TYPE,
    SecurityEvent,
    event_uri,
)

DECISIONS = (ACCEPT, REJECT, FORWARD)
"""The events a destination posts about a submission it received."""


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
            "$schema": SET_PAYLOAD_SCHEMA,
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


class NotFresh(ValueError):
    """The SET was issued too long ago, in the future, or has expired."""


def check_freshness(received: SecurityEvent, *, now: float, max_age: float, skew: float) -> None:
    """`iat` within the last `max_age` seconds (and not ahead of us), `exp` (if any) not passed."""
    if received.issued_at > now + skew:
        raise NotFresh("the SET's iat lies in the future")
    if received.issued_at < now - max_age:
        raise NotFresh(f"the SET was issued more than {int(max_age)} seconds ago")
    if received.expires_at is not None and received.expires_at < now - skew:
        raise NotFresh("the SET has expired (exp)")
