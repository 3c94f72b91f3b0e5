"""All SQL of the authorities (Organisationseinheiten) and their Zustellkanal (destination)."""

import uuid
from typing import Any

from sqlalchemy import func, insert, select
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


async def generated_authorities(session: AsyncSession) -> int:
    """How many authorities the demo seed generated."""
    return int(await session.scalar(select(func.count()).where(Authority.generated.is_(True))) or 0)


async def insert_generated(
    session: AsyncSession, authorities: list[dict[str, Any]], destinations: list[dict[str, Any]]
) -> None:
    """Insert generated authorities and their destinations, each kind in one statement."""
    await session.execute(insert(Authority), authorities)
    await session.execute(insert(Destination), destinations)


async def add(session: AsyncSession, record: Authority | Destination) -> None:
    session.add(record)


async def write(session: AsyncSession) -> None:
    """Send what the session changed to the database (inside its transaction)."""
    await session.flush()
