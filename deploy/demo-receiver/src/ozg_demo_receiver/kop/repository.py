"""Storing deliveries exactly once, even when two copies arrive at the same moment."""

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.messaging import insert_ignoring_duplicates
from ozg_demo_receiver.models import Application, Delivery


async def add_delivery(session: AsyncSession, values: dict[str, Any]) -> bool:
    return await insert_ignoring_duplicates(session, Delivery.__table__, values)  # type: ignore[arg-type]


async def count_repeat(session: AsyncSession, delivery_id: str) -> None:
    await session.execute(
        update(Delivery).where(Delivery.delivery_id == delivery_id).values(repeats=Delivery.repeats + 1)
    )


async def add_application(session: AsyncSession, values: dict[str, Any]) -> bool:
    return await insert_ignoring_duplicates(session, Application.__table__, values)  # type: ignore[arg-type]


async def count_duplicate(session: AsyncSession, submission_id: str) -> None:
    await session.execute(
        update(Application)
        .where(Application.submission_id == submission_id)
        .values(deliveries=Application.deliveries + 1)
    )
