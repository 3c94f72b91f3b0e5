"""Retention's queries: which submissions are due for what, a batch at a time."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_submission.models import EventLogEntry, Submission, SubmissionStatus

BATCH = 100

Due = ColumnElement[bool]
"""Which submissions a rule applies to."""


def incomplete_since(before: datetime) -> Due:
    return and_(Submission.status == SubmissionStatus.INCOMPLETE, Submission.created_at < before)


def awaiting_payment_since(before: datetime) -> Due:
    return and_(Submission.status == SubmissionStatus.AWAITING_PAYMENT, Submission.submitted_at < before)


def picked_up_before(before: datetime) -> Due:
    return and_(
        Submission.status.in_(
            [SubmissionStatus.DELIVERED, SubmissionStatus.ACCEPTED, SubmissionStatus.REJECTED]
        ),
        Submission.picked_up_at.is_not(None),
        Submission.picked_up_at < before,
    )


def never_picked_up_since(before: datetime) -> Due:
    return and_(
        Submission.status.in_([SubmissionStatus.FORWARDED, SubmissionStatus.REJECTED]),
        Submission.picked_up_at.is_(None),
        Submission.forwarded_at < before,
    )


def forwarded_since(before: datetime) -> Due:
    """Forwarded before `before`, and not picked up since."""
    return and_(Submission.status == SubmissionStatus.FORWARDED, Submission.forwarded_at < before)


def reminder_due(before: datetime, reminders_sent: int) -> Due:
    """Forwarded before `before`, not picked up since, reminded at most `reminders_sent` times."""
    return and_(
        Submission.status == SubmissionStatus.FORWARDED,
        Submission.forwarded_at < before,
        Submission.reminders_sent <= reminders_sent,
    )


def deleted_quiet_since(before: datetime) -> Due:
    return and_(Submission.status == SubmissionStatus.DELETED, Submission.last_event_at < before)


async def due(session: AsyncSession, condition: Due, *, lock: bool) -> Sequence[Submission]:
    """The next batch, oldest first; `lock`: skipping rows another pass holds (not on SQLite)."""
    query = select(Submission).where(condition).order_by(Submission.created_at).limit(BATCH)
    if lock:
        query = query.with_for_update(skip_locked=True)
    return (await session.scalars(query)).all()


async def forget(session: AsyncSession, submission: Submission) -> None:
    """Remove a deleted submission's row and its case log entries for good."""
    await session.execute(delete(EventLogEntry).where(EventLogEntry.submission_id == submission.id))
    await session.delete(submission)
