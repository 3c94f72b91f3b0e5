"""The sender callbacks' queries: register, claim the due ones, record an attempt's outcome."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.bulk import row_of, table_of
from ozg_submission.models import EventLogEntry, SenderCallback, Submission

TABLE = table_of(SenderCallback)


@dataclass(frozen=True, slots=True)
class DueCallback:
    """A claimed callback: whom to call about which submission, and how many entries its log has."""

    submission_id: uuid.UUID
    destination_id: str
    case_id: uuid.UUID
    url: str
    secret: str
    entries: int
    failures: int
    failing_since: datetime | None


def registration(submission_id: uuid.UUID, url: str, secret: str, announced_entries: int) -> dict[str, Any]:
    """The row of a new registration, to be inserted with its submission."""
    return row_of(
        SenderCallback,
        {
            "submission_id": submission_id,
            "url": url,
            "secret": secret,
            "announced_entries": announced_entries,
            "next_attempt_at": datetime.now(UTC),
            "failures": 0,
        },
    )


_ENTRIES = (
    select(func.count(EventLogEntry.id))
    .where(EventLogEntry.submission_id == SenderCallback.submission_id)
    .correlate(SenderCallback)
    .scalar_subquery()
)


async def claim_due(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int, *, lock: bool
) -> Sequence[DueCallback]:
    """The callbacks due now whose log has grown since the sender was last told, reserved until
    `lease_until` (another worker skips them meanwhile)."""
    query = (
        select(
            SenderCallback.submission_id,
            Submission.destination_id,
            Submission.case_id,
            SenderCallback.url,
            SenderCallback.secret,
            _ENTRIES.label("entries"),
            SenderCallback.failures,
            SenderCallback.failing_since,
        )
        .join(Submission, Submission.id == SenderCallback.submission_id)
        .where(SenderCallback.next_attempt_at <= now, SenderCallback.announced_entries < _ENTRIES)
        .order_by(SenderCallback.next_attempt_at)
        .limit(limit)
    )
    if lock:
        query = query.with_for_update(of=SenderCallback, skip_locked=True)
    due = [DueCallback(*row) for row in (await session.execute(query)).all()]
    if due:
        await session.execute(
            update(SenderCallback)
            .where(SenderCallback.submission_id.in_([d.submission_id for d in due]))
            .values(next_attempt_at=lease_until)
        )
    return due


async def announced(session: AsyncSession, submission_id: uuid.UUID, entries: int, now: datetime) -> None:
    """The sender was told of `entries` entries: due again as soon as the log grows."""
    await session.execute(
        update(SenderCallback)
        .where(SenderCallback.submission_id == submission_id)
        .values(
            announced_entries=entries,
            next_attempt_at=now,
            failures=0,
            failing_since=None,
            last_error=None,
        )
    )


async def failed(
    session: AsyncSession,
    submission_id: uuid.UUID,
    *,
    failures: int,
    failing_since: datetime,
    next_attempt_at: datetime | None,
    error: str,
) -> None:
    """An attempt failed: try again at `next_attempt_at`, or never (None)."""
    await session.execute(
        update(SenderCallback)
        .where(SenderCallback.submission_id == submission_id)
        .values(
            failures=failures,
            failing_since=failing_since,
            next_attempt_at=next_attempt_at,
            last_error=error,
        )
    )
