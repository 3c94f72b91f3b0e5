"""All SQL of the responsibilities (Zuständigkeiten)."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_zufi.models import Authority, Destination, Responsibility, Service


async def page_of_responsibilities(
    session: AsyncSession, *, leika_key: str | None, offset: int, limit: int
) -> tuple[list[Responsibility], int]:
    """One page of the responsibilities (of one service, if given) by LeiKa key and ARS, and how many
    there are in all."""
    query = select(Responsibility)
    if leika_key is not None:
        query = query.where(Responsibility.leika_key == leika_key)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(Responsibility.leika_key, Responsibility.area_ars).offset(offset).limit(limit)
    )
    return list(rows), int(total or 0)


async def service_exists(session: AsyncSession, leika_key: str) -> bool:
    return await session.get(Service, leika_key) is not None


async def authority_exists(session: AsyncSession, authority_id: uuid.UUID) -> bool:
    return await session.get(Authority, authority_id) is not None


async def responsibility_for(session: AsyncSession, leika_key: str, ars: str) -> Responsibility | None:
    return await session.scalar(
        select(Responsibility).where(Responsibility.leika_key == leika_key, Responsibility.area_ars == ars)
    )


async def get_responsibility(session: AsyncSession, responsibility_id: uuid.UUID) -> Responsibility | None:
    return await session.get(Responsibility, responsibility_id)


async def add_responsibility(session: AsyncSession, responsibility: Responsibility) -> None:
    session.add(responsibility)


async def write(session: AsyncSession) -> None:
    """Send what the session changed to the database (inside its transaction)."""
    await session.flush()


async def delete_responsibility(session: AsyncSession, responsibility: Responsibility) -> None:
    await session.delete(responsibility)
    await session.flush()


async def destination_of_authority(session: AsyncSession, authority_id: uuid.UUID) -> uuid.UUID | None:
    return await session.scalar(select(Destination.id).where(Destination.authority_id == authority_id))
