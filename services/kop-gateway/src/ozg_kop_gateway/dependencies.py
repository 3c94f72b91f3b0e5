"""Who may call what (admins for operations, a destination's token for its own cases), and the
service objects the endpoints work with."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ozg_common.auth import Principal, PrincipalDep
from ozg_common.outbox import Outbox
from ozg_kop_gateway.deliveries.lanes import Lanes
from ozg_kop_gateway.deliveries.service import Deliveries
from ozg_kop_gateway.destinations.service import SigningSecrets
from ozg_kop_gateway.errors import NotADestination
from ozg_kop_gateway.settings import KopGatewaySettings


@dataclass(frozen=True)
class Gateway:
    """What the kop-gateway's endpoints share with its worker."""

    settings: KopGatewaySettings
    outbox: Outbox
    deliveries: Deliveries
    signing: SigningSecrets
    lanes: Lanes


async def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(_gateway)]


async def _destination_principal(principal: PrincipalDep) -> Principal:
    if not principal.scoped_values("destination:"):
        raise NotADestination("This needs a subscriber token with a destination:<id> scope.")
    return principal


DestinationPrincipalDep = Annotated[Principal, Depends(_destination_principal)]
