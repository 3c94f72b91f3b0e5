"""The fee catalogue, readable by senders so they can build a request that adds up."""

from typing import Annotated

from fastapi import APIRouter, Path

from ozg_common.auth import SenderOrAdminDep
from ozg_common.db import SessionDep
from ozg_common.problems import Forbidden, Unauthorized, problem_responses
from ozg_payment.catalogue.schemas import FeeSchedule
from ozg_payment.catalogue.service import fee_schedule_of
from ozg_payment.errors import ServiceNotFound

router = APIRouter(tags=["fees"])


@router.get(
    "/v1/fees/{leikaKey}",
    response_model=FeeSchedule,
    summary="The fee items of a service (from zufi's catalogue)",
    responses=problem_responses(ServiceNotFound, Unauthorized, Forbidden),
)
async def fee_schedule(
    leika_key: Annotated[str, Path(alias="leikaKey", pattern=r"^99\d{12}$")],
    principal: SenderOrAdminDep,
    session: SessionDep,
) -> FeeSchedule:
    return await fee_schedule_of(session, leika_key)
