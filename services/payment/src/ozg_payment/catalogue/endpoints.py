"""The fee catalogue, readable by senders so they can build a request that adds up."""

from typing import Annotated

from fastapi import APIRouter, Path

from ozg_common.auth import SenderOrAdminDep
from ozg_common.db import SessionDep
from ozg_common.problems import Forbidden, Unauthorized, problem_responses
from ozg_payment.catalogue import repository
from ozg_payment.catalogue.schemas import FeeSchedule
from ozg_payment.errors import ServiceNotFound
from ozg_payment.xbezahldienste import PaymentItem

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
    service = await repository.get_service(session, leika_key)
    if service is None or not service.active:
        raise ServiceNotFound(f"The catalogue has no active service {leika_key}.")
    return FeeSchedule(
        leika_key=service.leika_key,
        name=service.name,
        payment_required=service.payment_required,
        items=[
            PaymentItem(
                id=fee.item_id,
                description=fee.description[:250],
                price=fee.price,
                quantity=fee.quantity,
                tax_rate=fee.tax_rate,
                booking_data=fee.booking_data,
            )
            for fee in await repository.fee_items(session, leika_key)
        ],
    )
