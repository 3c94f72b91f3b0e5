"""The freshness rule for the SETs destinations post (our own are signed by
`ozg_common.security_events.EventSigner`)."""

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
