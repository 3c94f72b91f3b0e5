"""The event log's queries: read in order, store a token signed on read."""

import uuid
from collections.abc import Collection, Mapping, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_submission.models import EventLogEntry


async def of_submission(session: AsyncSession, submission_id: uuid.UUID) -> Sequence[EventLogEntry]:
    query = (
        select(EventLogEntry).where(EventLogEntry.submission_id == submission_id).order_by(EventLogEntry.id)
    )
    return (await session.scalars(query)).all()


async def of_case(
    session: AsyncSession, case_id: uuid.UUID, *, offset: int = 0, limit: int | None = None
) -> Sequence[EventLogEntry]:
    """A case's entries in order, from `offset`, at most `limit` (None: all)."""
    query = (
        select(EventLogEntry)
        .where(EventLogEntry.case_id == case_id)
        .order_by(EventLogEntry.id)
        .offset(offset)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def count_of_case(session: AsyncSession, case_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(EventLogEntry).where(EventLogEntry.case_id == case_id)
    return int(await session.scalar(query) or 0)


async def jti_seen(session: AsyncSession, jti: uuid.UUID) -> bool:
    """Does any entry (ours or a destination's) have this `jti`?"""
    return await session.scalar(select(EventLogEntry.id).where(EventLogEntry.jti == jti).limit(1)) is not None


async def store_token(session: AsyncSession, entry_id: int, token: str) -> bool:
    """Store the token of an entry still unsigned; False if another reader stored one first.

    The row stays locked until the reader's commit: a concurrent reader waits, then finds it signed.
    """
    stored = await session.scalar(
        update(EventLogEntry)
        .where(EventLogEntry.id == entry_id, EventLogEntry.token.is_(None))
        .values(token=token)
        .returning(EventLogEntry.id)
        .execution_options(synchronize_session=False)
    )
    return stored is not None


async def tokens_of(session: AsyncSession, entry_ids: Collection[int]) -> Mapping[int, str]:
    """The stored tokens of these entries (as committed now, not as this session first saw them)."""
    rows = await session.execute(
        select(EventLogEntry.id, EventLogEntry.token).where(
            EventLogEntry.id.in_(entry_ids), EventLogEntry.token.is_not(None)
        )
    )
    return {entry_id: token for entry_id, token in rows if token is not None}
