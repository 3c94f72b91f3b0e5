"""Email notices: staged with the message that causes them, sent later by the sender."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_mailbox.models import Notice
from ozg_mailbox.notices import repository


async def enqueue_notice(session: AsyncSession, mailbox_id: uuid.UUID) -> None:
    """Stage one notice; a notice still waiting already covers this message too."""
    if await repository.pending_exists(session, mailbox_id):
        return
    now = datetime.now(UTC)
    repository.add(
        session,
        Notice(mailbox_id=mailbox_id, state="pending", attempts=0, created_at=now, next_attempt_at=now),
    )
