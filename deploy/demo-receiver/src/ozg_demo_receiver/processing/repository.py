"""Queries of the worker: which applications are due, and saving their progress."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_demo_receiver.models import FINAL_STAGES, Application, Delivery


async def due(
    session: AsyncSession, now: datetime, exclude: set[str], limit: int, *, include_paused: bool
) -> Sequence[Application]:
    """Open applications whose next attempt is due (and the paused ones, when answering is on)."""
    when = Application.next_attempt_at <= now
    if include_paused:
        when = or_(when, Application.next_attempt_at.is_(None))
    query = (
        select(Application)
        .where(Application.stage.not_in(list(FINAL_STAGES)), when)
        .order_by(Application.next_attempt_at)
        .limit(limit + len(exclude))
    )
    rows = (await session.scalars(query)).all()
    return [row for row in rows if row.submission_id not in exclude][:limit]


async def get(session: AsyncSession, submission_id: str) -> Application | None:
    return await session.get(Application, submission_id)


async def delivery(session: AsyncSession, delivery_id: str) -> Delivery | None:
    return await session.get(Delivery, delivery_id)
