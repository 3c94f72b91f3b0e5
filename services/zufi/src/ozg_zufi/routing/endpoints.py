"""GET /v1/routes: the FIT-Connect Routing API."""

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request, Response

from ozg_common.pagination import LIMIT_DEFAULT, LIMIT_MAX, Limit, Offset
from ozg_common.problems import problem_responses
from ozg_zufi.errors import (
    AreaNotFound,
    InvalidAreaKey,
    InvalidAreaQuery,
    InvalidLeikaKey,
    InvalidPostalCode,
    RateLimited,
    ServiceNotFound,
)
from ozg_zufi.routing.answers import JSON, answered_from_cache
from ozg_zufi.routing.schemas import Info, RoutesPage, Version
from ozg_zufi.routing.service import find_place, find_service, routes_page
from ozg_zufi.state import StateDep, ZufiState


async def answer_routes(
    zufi: ZufiState,
    leika_key: str,
    *,
    ars: str | None,
    ags: str | None,
    postal_code: str | None,
    area_id: str | None,
    offset: int,
    limit: int,
) -> bytes:
    index = zufi.index
    service = find_service(index, leika_key)
    place = find_place(index, ars=ars, ags=ags, postal_code=postal_code, area_id=area_id)
    return await routes_page(index, zufi.signer, service, place, offset=offset, limit=limit)


async def answer_plain_query(request: Request) -> bytes | None:
    """A query whose parameters need no validation beyond zufi's own, answered without FastAPI's.

    Parsing and validating seven parameters through FastAPI costs more than the lookup itself.
    None leaves the query to `get_routes`: a missing leikaKey, an offset or limit that is not
    plain digits in range, so those get the problem FastAPI's validation answers.
    """
    params = query_values(request.scope["query_string"])
    leika_key = params.get("leikaKey")
    offset = _plain_count(params.get("offset"), 0)
    limit = _plain_count(params.get("limit"), LIMIT_DEFAULT)
    if leika_key is None or offset is None or limit is None or not 1 <= limit <= LIMIT_MAX:
        return None
    return await answer_routes(
        request.app.state.zufi,
        leika_key,
        ars=params.get("ars"),
        ags=params.get("ags"),
        postal_code=params.get("postalCode"),
        area_id=params.get("areaId"),
        offset=offset,
        limit=limit,
    )


def query_values(query: bytes) -> dict[str, str]:
    """Each parameter's last value, read as Starlette's `QueryParams` reads them."""
    text = query.decode("latin-1")
    if "%" in text or "+" in text:
        return dict(parse_qsl(text, keep_blank_values=True))
    pairs = (pair.partition("=") for pair in text.split("&") if pair)
    return {name: value for name, _, value in pairs}


def _plain_count(value: str | None, default: int) -> int | None:
    if value is None:
        return default
    return int(value) if value.isascii() and value.isdecimal() and len(value) <= 9 else None


ROUTING_API_VERSION = Info(version=Version(major=2, minor=0, patch=0))
"""The version of the FIT-Connect Routing API `/v1/routes` and `/v1/areas` speak."""

info_router = APIRouter(prefix="/v1/info", tags=["routing"])


@info_router.get(
    "", summary="The version of the Routing API served", responses=problem_responses(RateLimited)
)
async def get_info() -> Info:
    return ROUTING_API_VERSION


# Repeated queries are answered from the kept bytes, plain ones without FastAPI's parsing (answers.py).
router = APIRouter(prefix="/v1/routes", tags=["routing"], route_class=answered_from_cache(answer_plain_query))


@router.get(
    "",
    summary="Find the destinations responsible for a service in an area",
    operation_id="route",  # the Routing API's own operationId
    response_model=RoutesPage,
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
    zufi: StateDep,
    leika_key: Annotated[str, Query(alias="leikaKey", description="`99` + 12 digits, or its URN.")],
    ars: Annotated[str | None, Query(description="Regionalschlüssel: 2, 3, 5, 9 or 12 digits.")] = None,
    ags: Annotated[str | None, Query(description="Gemeindeschlüssel: 2, 3, 5 or 8 digits.")] = None,
    postal_code: Annotated[
        str | None,
        Query(alias="postalCode", description="Extension of ours: a postal code (all Gemeinden it covers)."),
    ] = None,
    area_id: Annotated[str | None, Query(alias="areaId", description="An area id from /v1/areas.")] = None,
    offset: Offset = 0,
    limit: Limit = LIMIT_DEFAULT,
) -> Response:
    body = await answer_routes(
        zufi,
        leika_key,
        ars=ars,
        ags=ags,
        postal_code=postal_code,
        area_id=area_id,
        offset=offset,
        limit=limit,
    )
    return Response(body, media_type=JSON)
