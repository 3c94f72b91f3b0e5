"""The scope vocabulary and the access rules built on it."""

import re

from ozg_common.auth import Principal
from ozg_submission.errors import NotPermitted

ADMIN = "admin"
SEND = "send"
GATEWAY = "gateway"
CITIZEN = "citizen"
DESTINATION_PREFIX = "destination:"
SEND_SERVICE_PREFIX = "send:service:"
SEND_REGION_PREFIX = "send:region:"
ZUSTELLKANAL_HOST_PREFIX = "zustellkanal-host:"
"""Registered to the operator of a KOP webservice: it may ask for `destination:<id>` of every
destination whose Zustellkanal URL points at that host (and port)."""

SCOPE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9:._\-]{0,199}$")


def destinations_of(principal: Principal) -> set[str]:
    """The destination ids a subscriber token speaks for."""
    return principal.scoped_values(DESTINATION_PREFIX)


def sees_all_destinations(principal: Principal) -> bool:
    """Operators and the delivering gateway read every destination's submissions."""
    return principal.has(ADMIN) or principal.has(GATEWAY)


def require_subscriber(principal: Principal, destination_id: str) -> None:
    """Only the destination itself (or an operator/the gateway) reads its submissions."""
    if sees_all_destinations(principal):
        return
    if not destinations_of(principal):
        raise NotPermitted("Only the receiving destination may read submissions.")
    if destination_id not in destinations_of(principal):
        raise NotPermitted("This token speaks for another destination.")


def require_sender_may_send(principal: Principal, leika_key: str, ars: str | None) -> None:
    """`send:service:<leikaKey>` and `send:region:<ars-prefix>` scopes narrow what a sender may send.

    `ars`: the applicant's area (native intake) or, where the request names none (FIT-Connect), the
    area the destination's authority serves; it must lie within one of the sender's regions.
    """
    services = principal.scoped_values(SEND_SERVICE_PREFIX)
    if services and leika_key not in services:
        raise NotPermitted(f"This client may not send applications for service {leika_key}.")
    regions = principal.scoped_values(SEND_REGION_PREFIX)
    if regions:
        if not ars:
            raise NotPermitted(
                "This client is restricted to regions, and the destination's area is not known."
            )
        if not any(ars.startswith(prefix) for prefix in regions):
            raise NotPermitted(f"This client may not send applications for area {ars}.")


def is_party_of(principal: Principal, *, sender_client_id: str, destination_id: str) -> bool:
    """The sender that created a submission, its destination, or an operator."""
    return (
        sees_all_destinations(principal)
        or (principal.has(SEND) and principal.client_id == sender_client_id)
        or destination_id in destinations_of(principal)
    )
