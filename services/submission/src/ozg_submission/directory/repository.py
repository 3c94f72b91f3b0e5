"""The read model of zufi's destinations and services."""

from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_submission.models import Destination, Leistung


async def get_destination(session: AsyncSession, destination_id: str) -> Destination | None:
    return await session.get(Destination, destination_id)


async def get_service(session: AsyncSession, leika_key: str) -> Leistung | None:
    return await session.get(Leistung, leika_key)


async def services_named(session: AsyncSession, leika_keys: list[str]) -> list[Leistung]:
    if not leika_keys:
        return []
    return list((await session.scalars(select(Leistung).where(Leistung.leika_key.in_(leika_keys)))).all())


async def preload(session: AsyncSession, leika_key: str, destination_id: str) -> None:
    """Load a service and a destination in one round trip; `get_*` then find them in the session."""
    # Two unrelated rows, each by its primary key: a deliberate cross join of at most one row.
    await session.execute(
        select(Leistung, Destination)
        .join(Destination, true())
        .where(Leistung.leika_key == leika_key, Destination.destination_id == destination_id)
    )
