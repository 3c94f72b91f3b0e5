"""The rules for the SETs others write into our event log: the freshness of those destinations
post, and what makes a decision kop-gateway signed count."""

import uuid
from typing import Any

from ozg_common.security_events import ACCEPT, FORWARD, REJECT, SecurityEvent

DECISIONS = (ACCEPT, REJECT, FORWARD)
"""The events a destination posts about a submission it received."""


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


def same_tags(stored: dict[str, Any] | None, tags: dict[str, Any]) -> bool:
    """Does an accept repeat the tags stored at submit (`attachments` may be left out where there are
    none)? A submission submitted before tags were kept has none to compare with."""
    if stored is None:
        return True
    return {"attachments": {}} | tags == {"attachments": {}} | stored


class RefusedDecision(ValueError):
    """A decision kop-gateway announced whose SET does not prove it; `reason` names the rule broken."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def check_gateway_decision(
    received: SecurityEvent,
    *,
    issuer: str,
    decision: str,
    submission_id: uuid.UUID,
    case_id: uuid.UUID,
    authentication_tags: dict[str, Any] | None,
) -> None:
    """The verified SET is kop-gateway's (`issuer`), states `decision` about this submission of this
    case, and an accept repeats the stored authentication tags."""
    if received.issuer != issuer:
        raise RefusedDecision("issuer", f"iss is {received.issuer!r}, not kop-gateway's {issuer!r}")
    if received.event != decision:
        raise RefusedDecision("event", f"the SET states {received.event}, the event {decision}")
    if (received.subject_kind, received.subject_id, received.case_id) != (
        "submission",
        submission_id,
        case_id,
    ):
        raise RefusedDecision("subject", "sub or txn names another submission or case")
    if decision == ACCEPT and not same_tags(authentication_tags, received.details["authenticationTags"]):
        raise RefusedDecision("tags", "authenticationTags differ from the tags stored at submit")
