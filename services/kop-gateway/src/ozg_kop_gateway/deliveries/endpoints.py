"""Admin API of deliveries: list by state/destination, inspect attempts, replay dead letters."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ozg_common.auth import AdminDep
from ozg_common.db import SessionDep
from ozg_common.pagination import LIMIT_DEFAULT, Limit, Offset
from ozg_common.problems import problem_responses
from ozg_kop_gateway.deliveries import service
from ozg_kop_gateway.deliveries.schemas import (
    AttemptView,
    DeliveryDetail,
    DeliveryPage,
    DeliveryView,
    ReplayResult,
)
from ozg_kop_gateway.errors import DeliveryNotFound, DeliveryNotReplayable
from ozg_kop_gateway.models import DeliveryState
from ozg_kop_gateway.state import StateDep

router = APIRouter(prefix="/v1/admin", tags=["admin: deliveries"])

REPLAY_BATCH = 1000


@router.get("/deliveries", response_model=DeliveryPage, response_model_by_alias=True)
async def list_deliveries(
    session: SessionDep,
    _: AdminDep,
    state: DeliveryState | None = None,
    destination_id: Annotated[str | None, Query(alias="destinationId")] = None,
    case_id: Annotated[str | None, Query(alias="caseId")] = None,
    offset: Offset = 0,
    limit: Limit = LIMIT_DEFAULT,
) -> DeliveryPage:
    total, rows = await service.search(
        session, state=state, destination_id=destination_id, case_id=case_id, offset=offset, limit=limit
    )
    return DeliveryPage(
        count=len(rows),
        offset=offset,
        total_count=total,
        deliveries=[DeliveryView.model_validate(row) for row in rows],
    )


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    response_model_by_alias=True,
    responses=problem_responses(DeliveryNotFound),
)
async def get_delivery(delivery_id: uuid.UUID, session: SessionDep, _: AdminDep) -> DeliveryDetail:
    delivery, attempts = await service.with_attempts(session, delivery_id)
    return DeliveryDetail.model_validate(
        DeliveryView.model_validate(delivery).model_dump()
        | {"attempts": [AttemptView.model_validate(a) for a in attempts]}
    )


@router.post(
    "/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryView,
    response_model_by_alias=True,
    responses=problem_responses(DeliveryNotFound, DeliveryNotReplayable),
)
async def replay_delivery(
    delivery_id: uuid.UUID, session: SessionDep, state: StateDep, _: AdminDep
) -> DeliveryView:
    """Send a dead-lettered delivery again, with the same delivery id and a fresh retry horizon."""
    return DeliveryView.model_validate(await state.deliveries.replay_one(session, delivery_id))


@router.post("/dead-letters/replay", response_model=ReplayResult, response_model_by_alias=True)
async def replay_dead_letters(
    session: SessionDep,
    state: StateDep,
    _: AdminDep,
    destination_id: Annotated[str | None, Query(alias="destinationId")] = None,
) -> ReplayResult:
    """Replay up to 1000 dead letters at once, e.g. after a municipality fixed its endpoint."""
    replayed = await state.deliveries.replay_dead_letters(session, destination_id, limit=REPLAY_BATCH)
    return ReplayResult(replayed=replayed)
