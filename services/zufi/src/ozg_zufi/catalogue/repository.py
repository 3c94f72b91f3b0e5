"""All SQL of the service catalogue (Leistungen)."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_zufi.models import Service


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
