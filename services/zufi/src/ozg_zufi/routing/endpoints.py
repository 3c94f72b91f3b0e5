"""GET /v1/routes: the FIT-Connect Routing API."""

from typing import Annotated

from fastapi import APIRouter, Query

from ozg_common.problems import problem_responses
from ozg_zufi.context import ZufiDep
from ozg_zufi.errors import (
    AreaNotFound,
    InvalidAreaKey,
    InvalidAreaQuery,
    InvalidLeikaKey,
    InvalidPostalCode,
    RateLimited,
    ServiceNotFound,
)
from ozg_zufi.pagination import DEFAULT_LIMIT, Limit, Offset
from ozg_zufi.routing.answers import AnsweredFromCache
from ozg_zufi.routing.schemas import RoutesPage
from ozg_zufi.routing.service import find_place, find_routes, find_service

# Repeated queries are answered from the kept bytes, before FastAPI parses them (routing/answers.py).
router = APIRouter(prefix="/v1/routes", tags=["routing"], route_class=AnsweredFromCache)


@router.get(
    "",
    summary="Find the destinations responsible for a service in an area",
    responses=problem_responses(
        InvalidLeikaKey,
        InvalidAreaKey,
        InvalidPostalCode,
        InvalidAreaQuery,
        ServiceNotFound,
        AreaNotFound,
        RateLimited,
    ),
)
async def get_routes(
    zufi: ZufiDep,
    leika_key: Annotated[str, Query(alias="leikaKey", description="`99` + 12 digits, or its URN.")],
    ars: Annotated[str | None, Query(description="Regionalschlüssel: 2, 3, 5, 9 or 12 digits.")] = None,
    ags: Annotated[str | None, Query(description="Gemeindeschlüssel: 8 digits.")] = None,
    postal_code: Annotated[str | None, Query(alias="postalCode")] = None,
    area_id: Annotated[str | None, Query(alias="areaId", description="An area id from /v1/areas.")] = None,
    offset: Offset = 0,
    limit: Limit = DEFAULT_LIMIT,
) -> RoutesPage:
    index = zufi.index
    service = find_service(index, leika_key)
    place = find_place(index, ars=ars, ags=ags, postal_code=postal_code, area_id=area_id)
    return await find_routes(index, zufi.signer, service, place, offset=offset, limit=limit)
