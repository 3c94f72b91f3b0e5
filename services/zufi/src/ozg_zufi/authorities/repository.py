"""All SQL of the authorities (Organisationseinheiten) and their Zustellkanal (destination)."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_zufi.models import Authority, Destination, Service


async def get_authority(
    session: AsyncSession, authority_id: uuid.UUID, *, for_update: bool = False
) -> Authority | None:
    return await session.get(Authority, authority_id, with_for_update=for_update)


async def destination_of(
    session: AsyncSession, authority_id: uuid.UUID, *, for_update: bool = False
) -> Destination | None:
    """The authority's destination; `for_update`: locked until the transaction ends."""
    query = select(Destination).where(Destination.authority_id == authority_id)
    return await session.scalar(query.with_for_update() if for_update else query)


async def get_destination(session: AsyncSession, destination_id: uuid.UUID) -> Destination | None:
    return await session.get(Destination, destination_id)


async def known_services(session: AsyncSession, leika_keys: list[str]) -> set[str]:
    """Those of `leika_keys` the catalogue holds."""
    return set(await session.scalars(select(Service.leika_key).where(Service.leika_key.in_(leika_keys))))


async def add(session: AsyncSession, record: Authority | Destination) -> None:
    session.add(record)


async def write(session: AsyncSession) -> None:
    """Send what the session changed to the database (inside its transaction)."""
    await session.flush()
