"""Queries on staged email notices."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_mailbox.models import Mailbox, Notice


async def pending_exists(session: AsyncSession, mailbox_id: uuid.UUID) -> bool:
    """Whether a notice of this mailbox still waits to be sent."""
    waiting = await session.scalar(
        select(Notice.id).where(Notice.mailbox_id == mailbox_id, Notice.state == "pending").limit(1)
    )
    return waiting is not None


def add(session: AsyncSession, notice: Notice) -> None:
    session.add(notice)


async def due(
    session: AsyncSession, now: datetime, *, limit: int, skip_locked: bool
) -> Sequence[Row[Notice, str | None]]:
    """Due notices with their mailbox's address, oldest due first; `skip_locked` (PostgreSQL) locks
    them, passing over those another replica holds."""
    query = (
        select(Notice, Mailbox.email)
        .join(Mailbox, Mailbox.id == Notice.mailbox_id)
        .where(Notice.state == "pending", Notice.next_attempt_at <= now)
        .order_by(Notice.next_attempt_at)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(of=Notice, skip_locked=True)
    return (await session.execute(query)).all()


async def delete_finished(session: AsyncSession, created_before: datetime) -> None:
    """Forget notices no longer pending that were staged before `created_before`."""
    await session.execute(delete(Notice).where(Notice.state != "pending", Notice.created_at < created_before))
