"""Storing deliveries exactly once, even when two copies arrive at the same moment."""

from typing import Any

from sqlalchemy import Table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_demo_receiver.models import Application, Delivery


async def insert_if_new(session: AsyncSession, table: Table, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when the row is new."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(insert(table).values(**values).on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0) == 1)


async def add_delivery(session: AsyncSession, values: dict[str, Any]) -> bool:
    return await insert_if_new(session, Delivery.__table__, values)  # type: ignore[arg-type]


async def count_repeat(session: AsyncSession, delivery_id: str) -> None:
    await session.execute(
        update(Delivery).where(Delivery.delivery_id == delivery_id).values(repeats=Delivery.repeats + 1)
    )


async def add_application(session: AsyncSession, values: dict[str, Any]) -> bool:
    return await insert_if_new(session, Application.__table__, values)  # type: ignore[arg-type]


async def count_duplicate(session: AsyncSession, submission_id: str) -> None:
    await session.execute(
        update(Application)
        .where(Application.submission_id == submission_id)
        .values(deliveries=Application.deliveries + 1)
    )
