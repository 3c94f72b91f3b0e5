"""Who may call what: admins for operations, a destination's token for its own cases."""

from typing import Annotated

from fastapi import Depends

from ozg_common.auth import Principal, PrincipalDep
from ozg_kop_gateway.errors import NotADestination


async def _destination_principal(principal: PrincipalDep) -> Principal:
    if not principal.scoped_values("destination:"):
        raise NotADestination("This needs a subscriber token with a destination:<id> scope.")
    return principal


DestinationPrincipalDep = Annotated[Principal, Depends(_destination_principal)]
