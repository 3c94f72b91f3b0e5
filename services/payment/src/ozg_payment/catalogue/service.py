"""Keeps the fee catalogue in step with zufi and checks a payment request against it."""

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.contracts.zufi import ServiceChanged
from ozg_common.events import CloudEvent
from ozg_payment.catalogue import repository
from ozg_payment.catalogue.schemas import Fee, FeeSchedule
from ozg_payment.errors import BookingDataMissing, CalculationError, ServiceNotFound, ValidationFailed
from ozg_payment.models import CatalogueFeeItem, CatalogueService
from ozg_payment.xbezahldienste import PaymentItem


async def on_service_changed(session: AsyncSession, event: ServiceChanged, envelope: CloudEvent) -> None:
    """Apply zufi's newest view of a service; an older event arriving late changes nothing."""
    service = await repository.get_service(session, event.leika_key)
    if service is not None and service.changed_at > envelope.time:
        return
    if service is None:
        service = CatalogueService(leika_key=event.leika_key)
        session.add(service)
    service.name = event.name[:500]
    service.payment_required = event.payment_required
    service.active = event.active
    service.changed_at = envelope.time
    await session.flush()
    await repository.replace_fee_items(
        session,
        event.leika_key,
        [
            CatalogueFeeItem(
                leika_key=event.leika_key,
                item_id=fee.id,
                description=fee.description[:500],
                price=Decimal(fee.price),
                quantity=fee.quantity,
                tax_rate=Decimal(fee.tax_rate),
                booking_data=fee.booking_data,
            )
            for fee in event.fees
        ],
    )


async def fee_schedule_of(session: AsyncSession, leika_key: str) -> FeeSchedule:
    """The fees of an active service, as zufi's catalogue states them."""
    service = await repository.get_service(session, leika_key)
    if service is None or not service.active:
        raise ServiceNotFound(f"The catalogue has no active service {leika_key}.")
    return FeeSchedule(
        leika_key=service.leika_key,
        name=service.name,
        payment_required=service.payment_required,
        items=[
            Fee(
                id=fee.item_id,
                description=fee.description,
                price=fee.price,
                quantity=fee.quantity,
                tax_rate=fee.tax_rate,
                booking_data=fee.booking_data,
            )
            for fee in await repository.fee_items(session, leika_key)
        ],
    )


async def identify_service(session: AsyncSession, leika_key: str | None, items: Sequence[PaymentItem]) -> str:
    """The service a payment is for: the `leikaKey` extension, else the one owning all item ids."""
    if leika_key is not None:
        service = await repository.get_service(session, leika_key)
        if service is None or not service.active:
            raise ServiceNotFound(f"The catalogue has no active service {leika_key}.")
        return leika_key
    candidates = await repository.services_with_items(session, {item.id for item in items})
    if not candidates:
        raise CalculationError("The items are not the fee items of any service in the catalogue.")
    if len(candidates) > 1:
        raise ValidationFailed("The item ids fit several services; name the service with `leikaKey`.")
    return candidates[0]


async def check_fee(
    session: AsyncSession, leika_key: str, amount: Decimal, items: Sequence[PaymentItem]
) -> list[PaymentItem]:
    """Check items and amount against the service's fee schedule; answer the items with booking data.

    Every item must be a fee item of the service at the catalogue's unit price, and the amount must
    be the sum of price × quantity. Items without bookingData get the catalogue's; items that bring
    their own must keep every key the catalogue defines.
    """
    service = await repository.get_service(session, leika_key)
    schedule = {fee.item_id: fee for fee in await repository.fee_items(session, leika_key)}
    if service is None or not service.payment_required or not schedule:
        raise CalculationError(f"Service {leika_key} charges no fee.")
    if len({item.id for item in items}) != len(items):
        raise ValidationFailed("Each fee item may appear only once; use its quantity.")
    checked: list[PaymentItem] = []
    for item in items:
        fee = schedule.get(item.id)
        if fee is None:
            raise CalculationError(f"Item {item.id!r} is no fee item of service {leika_key}.")
        if item.price != fee.price:
            raise CalculationError(f"Item {item.id!r} costs {fee.price} EUR, not {item.price} EUR.")
        if item.booking_data is None:
            item = item.model_copy(update={"booking_data": dict(fee.booking_data)})
        elif missing := sorted(set(fee.booking_data) - set(item.booking_data)):
            raise BookingDataMissing(f"Item {item.id!r} lacks booking data {', '.join(missing)}.")
        checked.append(item)
    total = sum((item.price * item.quantity for item in checked), Decimal(0))
    if total != amount:
        raise CalculationError(f"The items add up to {total} EUR, the amount is {amount} EUR.")
    return checked
