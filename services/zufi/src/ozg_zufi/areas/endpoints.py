"""GET /v1/areas: find an area by name or postal code."""

from typing import Annotated

from fastapi import APIRouter, Query

from ozg_common.pagination import LIMIT_DEFAULT, Limit, Offset
from ozg_common.problems import problem_responses
from ozg_zufi import identifiers
from ozg_zufi.areas.schemas import AreasPage, AreaSummary
from ozg_zufi.errors import AreaNotFound, InvalidAreaKey, InvalidAreaQuery, InvalidPostalCode, RateLimited
from ozg_zufi.state import StateDep

router = APIRouter(prefix="/v1/areas", tags=["areas"])


@router.get(
    "",
    summary="Search areas",
    operation_id="area",  # the Routing API's own operationId
    responses=problem_responses(InvalidAreaQuery, InvalidPostalCode, RateLimited),
)
async def search_areas(
    zufi: StateDep,
    terms: Annotated[
        list[str],
        Query(
            alias="areaSearchexpression",
            description="1 to 10 terms, each a name (case- and umlaut-insensitive, `*` wildcard) or a "
            "postal code (`241*`); an area is found if every term finds it.",
        ),
    ],
    offset: Offset = 0,
    limit: Limit = LIMIT_DEFAULT,
) -> AreasPage:
    found = zufi.search.find_all(terms)
    page = [AreaSummary.of(area) for area in found[offset : offset + limit]]
    return AreasPage(count=len(page), offset=offset, total_count=len(found), areas=page)


@router.get(
    "/{ars}",
    summary="One area by its ARS",
    responses=problem_responses(InvalidAreaKey, AreaNotFound, RateLimited),
)
async def get_area(zufi: StateDep, ars: str) -> AreaSummary:
    area = zufi.index.areas.get(identifiers.ars(ars))
    if area is None:
        raise AreaNotFound(f"No area has the ARS {ars}.")
    return AreaSummary.of(area)
