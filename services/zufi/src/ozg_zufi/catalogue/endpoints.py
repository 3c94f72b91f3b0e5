"""The service catalogue: public reads, admin writes."""

from fastapi import APIRouter

from ozg_common.auth import AdminDep
from ozg_common.db import SessionDep
from ozg_common.pagination import LIMIT_DEFAULT, Limit, Offset
from ozg_common.problems import Forbidden, Unauthorized, problem_responses
from ozg_zufi import identifiers
from ozg_zufi.catalogue import service as catalogue
from ozg_zufi.catalogue.schemas import DestinationSyncStatus, ServiceIn, ServiceOut, ServicesPage
from ozg_zufi.errors import InvalidLeikaKey, RateLimited, ServiceNotFound
from ozg_zufi.state import StateDep

router = APIRouter(prefix="/v1/services", tags=["services"])
admin_router = APIRouter(prefix="/v1/admin/services", tags=["admin"])


@router.get("", summary="The service catalogue", responses=problem_responses(RateLimited))
async def list_services(
    session: SessionDep, offset: Offset = 0, limit: Limit = LIMIT_DEFAULT
) -> ServicesPage:
    services, total = await catalogue.list_services(session, offset=offset, limit=limit)
    page = [catalogue.service_out(service) for service in services]
    return ServicesPage(count=len(page), offset=offset, total_count=total, services=page)


@router.get(
    "/{leika_key}",
    summary="One service (LeiKa key or its URN)",
    responses=problem_responses(InvalidLeikaKey, ServiceNotFound, RateLimited),
)
async def get_service(session: SessionDep, leika_key: str) -> ServiceOut:
    service = await catalogue.get_service(session, identifiers.leika_key(leika_key))
    return catalogue.service_out(service)


@admin_router.get(
    "/destination-sync",
    summary="Whether the destinations' service lists reflect the latest changes (this replica)",
    description=(
        "A change of a service or a responsibility is answered at once; the destinations that now offer "
        "the service, or no longer do, are rewritten (and `DestinationChanged` published) in the "
        "background, by one replica at a time (`waitingForAnotherReplica`: this one's requests wait "
        "for another's run; a run that finds them recomputed from the same data by another replica "
        "says `alreadyRecomputed`). `idle` means every change this replica accepted has reached them."
    ),
    responses=problem_responses(Unauthorized, Forbidden),
)
async def destination_sync(zufi: StateDep, _admin: AdminDep) -> DestinationSyncStatus:
    return zufi.offers.status()


@admin_router.put(
    "/{leika_key}",
    summary="Create or replace a service",
    description="Routing follows at once; the destinations' service lists follow in the background "
    "(see `GET /v1/admin/services/destination-sync`).",
    responses=problem_responses(InvalidLeikaKey, Unauthorized, Forbidden),
)
async def put_service(
    session: SessionDep, zufi: StateDep, _admin: AdminDep, leika_key: str, body: ServiceIn
) -> ServiceOut:
    service = await catalogue.put_service(session, zufi, identifiers.leika_key(leika_key), body)
    return catalogue.service_out(service)


@admin_router.delete(
    "/{leika_key}",
    summary="Deactivate a service (it stays in the catalogue, routing stops)",
    responses=problem_responses(InvalidLeikaKey, ServiceNotFound, Unauthorized, Forbidden),
)
async def deactivate_service(
    session: SessionDep, zufi: StateDep, _admin: AdminDep, leika_key: str
) -> ServiceOut:
    service = await catalogue.deactivate_service(session, zufi, identifiers.leika_key(leika_key))
    return catalogue.service_out(service)
