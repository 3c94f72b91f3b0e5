"""The event log's queries: append and read in order."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_submission.models import EventLogEntry


async def for_submission(session: AsyncSession, submission_id: uuid.UUID) -> Sequence[str]:
    query = (
        select(EventLogEntry.token)
        .where(EventLogEntry.submission_id == submission_id)
        .order_by(EventLogEntry.id)
    )
    return (await session.scalars(query)).all()


async def for_case(session: AsyncSession, case_id: uuid.UUID) -> Sequence[str]:
    query = select(EventLogEntry.token).where(EventLogEntry.case_id == case_id).order_by(EventLogEntry.id)
    return (await session.scalars(query)).all()
