"""The read model of zufi's destinations and services."""

from sqlalchemy import bindparam, select, true
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


# Two unrelated rows, each by its primary key: a deliberate cross join of at most one row.
_SERVICE_AND_DESTINATION = (
    select(Leistung, Destination)
    .join(Destination, true())
    .where(
        Leistung.leika_key == bindparam("leika_key"),
        Destination.destination_id == bindparam("destination_id"),
    )
)


async def service_and_destination(
    session: AsyncSession, leika_key: str, destination_id: str
) -> tuple[Leistung | None, Destination | None]:
    """A service and a destination, in one round trip when both exist."""
    parameters = {"leika_key": leika_key, "destination_id": destination_id}
    row = (await session.execute(_SERVICE_AND_DESTINATION, parameters)).first()
    if row is not None:
        return row[0], row[1]
    return await get_service(session, leika_key), await get_destination(session, destination_id)
