"""Email notices: staged with the message that causes them, sent later by the sender."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_mailbox.models import Notice


async def enqueue_notice(session: AsyncSession, mailbox_id: uuid.UUID) -> None:
    """Stage one notice; a notice still waiting already covers this message too."""
    waiting = await session.scalar(
        select(Notice.id).where(Notice.mailbox_id == mailbox_id, Notice.state == "pending").limit(1)
    )
    if waiting is not None:
        return
    now = datetime.now(UTC)
    session.add(
        Notice(mailbox_id=mailbox_id, state="pending", attempts=0, created_at=now, next_attempt_at=now)
    )
