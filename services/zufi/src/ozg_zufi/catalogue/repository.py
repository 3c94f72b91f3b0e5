"""All SQL of the service catalogue (Leistungen) and of the services each destination offers."""

import uuid
from collections.abc import AsyncIterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_zufi.models import Authority, Destination, OfferRecompute, Service

ServiceList = tuple[uuid.UUID, list[str], list[str], bool]
"""A destination's id, its services, those its administrator declared, and whether it is generated."""


async def get_service(session: AsyncSession, leika_key: str) -> Service | None:
    return await session.get(Service, leika_key)


async def page_of_services(session: AsyncSession, *, offset: int, limit: int) -> tuple[list[Service], int]:
    """One page of the catalogue by LeiKa key, and how many services it holds in all."""
    total = await session.scalar(select(func.count()).select_from(Service))
    services = await session.scalars(select(Service).order_by(Service.leika_key).offset(offset).limit(limit))
    return list(services), int(total or 0)


async def leika_keys(session: AsyncSession) -> set[str]:
    """The key of every service in the catalogue."""
    return set(await session.scalars(select(Service.leika_key)))


async def add_service(session: AsyncSession, service: Service) -> None:
    session.add(service)


async def write(session: AsyncSession) -> None:
    """Send what the session changed to the database (inside its transaction)."""
    await session.flush()


async def destination_service_lists(
    session: AsyncSession, *, per_partition: int
) -> AsyncIterator[Sequence[ServiceList]]:
    """Every destination's service lists, streamed in partitions (decoding 13,000 rows at once would
    stall routing for a while)."""
    rows = await session.stream(
        select(Destination.id, Destination.services, Destination.declared_services, Authority.generated)
        .join(Authority, Authority.id == Destination.authority_id)
        .execution_options(yield_per=per_partition)
    )
    async for partition in rows.partitions():
        yield [(row[0], row[1], row[2], row[3]) for row in partition]


async def destinations_for_update(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[tuple[Destination, Authority]]:
    """These destinations with their authorities, locked until the transaction ends, in id order."""
    rows = await session.execute(
        select(Destination, Authority)
        .join(Authority, Authority.id == Destination.authority_id)
        .where(Destination.id.in_(ids))
        .order_by(Destination.id)
        .with_for_update(of=Destination)
    )
    return [(destination, authority) for destination, authority in rows]


async def get_offer_recompute(session: AsyncSession, record_id: int) -> OfferRecompute | None:
    return await session.get(OfferRecompute, record_id)


async def add_offer_recompute(session: AsyncSession, record: OfferRecompute) -> None:
    session.add(record)
