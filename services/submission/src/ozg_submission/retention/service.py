"""Retention per FIT-Connect: what is deleted when, with blobs removed for real.

incomplete → deleted after 1 day; picked up → deleted 7 days later; never picked up → reminders on
days 3 and 9 (`submission.pickup_reminder`), auto-rejected on day 14, deleted on day 21; awaiting
payment → deleted after 21 days; the case's event log → deleted 730 days after its last event.
Every period is a setting.
"""

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.contracts.submission import SubmissionDeleted, SubmissionPickupReminder
from ozg_submission.context import SubmissionContext
from ozg_submission.eventlog import service as eventlog
from ozg_submission.eventlog.decisions import decide
from ozg_submission.eventlog.tokens import DELETE, REJECT
from ozg_submission.models import Attachment, EventLogEntry, Submission, SubmissionStatus
from ozg_submission.submissions.service import blob_prefix

logger = logging.getLogger(__name__)

BATCH = 100
NOT_PICKED_UP = {
    "type": "https://schema.fitko.de/fit-connect/events/problems/not-picked-up",
    "title": "Not picked up",
    "detail": "The destination did not pick the submission up in time; it was rejected automatically.",
}


class RetentionJob:
    """One pass deletes, reminds and rejects what is due; `run` repeats it forever."""

    def __init__(self, context: SubmissionContext) -> None:
        self.context = context
        self.settings = context.settings

    async def run(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self.settings.retention_interval)

    async def run_once(self, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        s = self.settings
        await self._delete_where(
            and_(
                Submission.status == SubmissionStatus.INCOMPLETE,
                Submission.created_at < now - s.retention_incomplete_after,
            ),
            "incomplete",
        )
        await self._delete_where(
            and_(
                Submission.status == SubmissionStatus.AWAITING_PAYMENT,
                Submission.submitted_at < now - s.retention_awaiting_payment_after,
            ),
            "payment-missing",
        )
        await self._delete_where(
            and_(
                Submission.status.in_(
                    [SubmissionStatus.DELIVERED, SubmissionStatus.ACCEPTED, SubmissionStatus.REJECTED]
                ),
                Submission.picked_up_at.is_not(None),
                Submission.picked_up_at < now - s.retention_after_pickup,
            ),
            "picked-up",
        )
        await self._remind(now)
        await self._auto_reject(now)
        await self._delete_where(
            and_(
                Submission.status.in_([SubmissionStatus.FORWARDED, SubmissionStatus.REJECTED]),
                Submission.picked_up_at.is_(None),
                Submission.forwarded_at < now - s.retention_unpicked_delete_after,
            ),
            "not-picked-up",
        )
        await self._forget_event_logs(now)

    async def _due(self, session: AsyncSession, condition: ColumnElement[bool]) -> Sequence[Submission]:
        query = select(Submission).where(condition).order_by(Submission.created_at).limit(BATCH)
        if not self.context.runtime.database.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        return (await session.scalars(query)).all()

    async def _delete_where(self, condition: ColumnElement[bool], reason: str) -> None:
        while True:
            async with self.context.runtime.database.transaction() as session:
                due = await self._due(session, condition)
                for submission in due:
                    await self._delete(session, submission, reason)
            if len(due) < BATCH:
                return

    async def _delete(self, session: AsyncSession, submission: Submission, reason: str) -> None:
        # Blobs first: if the commit fails, the next pass deletes again (idempotent); never a row
        # claiming "deleted" while the content survives.
        await self.context.blobs.delete_prefix(blob_prefix(submission.id))
        await session.execute(delete(Attachment).where(Attachment.submission_id == submission.id))
        submission.status = SubmissionStatus.DELETED
        submission.deleted_at = datetime.now(UTC)
        submission.metadata_key = submission.data_key = None
        submission.pending_metadata = None
        eventlog.record(session, submission, DELETE, {"reason": reason})
        await self.context.outbox.publish(
            session,
            SubmissionDeleted(
                case_id=str(submission.case_id), submission_id=str(submission.id), reason=reason
            ),
        )
        self.context.metrics.retention.labels(f"delete-{reason}").inc()
        logger.info("submission deleted", extra={"submission_id": str(submission.id), "reason": reason})

    async def _remind(self, now: datetime) -> None:
        for index, after in enumerate(sorted(self.settings.retention_reminders)):
            async with self.context.runtime.database.transaction() as session:
                due = await self._due(
                    session,
                    and_(
                        Submission.status == SubmissionStatus.FORWARDED,
                        Submission.forwarded_at < now - after,
                        Submission.reminders_sent <= index,
                    ),
                )
                for submission in due:
                    submission.reminders_sent = index + 1
                    await self.context.outbox.publish(session, self._reminder(submission, index + 1))
                    self.context.metrics.retention.labels("reminder").inc()
                    logger.warning(
                        "submission not picked up yet",
                        extra={
                            "submission_id": str(submission.id),
                            "destination_id": submission.destination_id,
                            "reminder": index + 1,
                        },
                    )

    def _reminder(self, submission: Submission, number: int) -> SubmissionPickupReminder:
        """kop-gateway turns it into another new-submissions callback for callback-mode destinations."""
        assert submission.forwarded_at is not None  # only forwarded submissions are reminded
        return SubmissionPickupReminder(
            case_id=str(submission.case_id),
            submission_id=str(submission.id),
            destination_id=submission.destination_id,
            reminder=number,
            forwarded_at=submission.forwarded_at,
            auto_reject_at=submission.forwarded_at + self.settings.retention_auto_reject_after,
        )

    async def _auto_reject(self, now: datetime) -> None:
        async with self.context.runtime.database.transaction() as session:
            due = await self._due(
                session,
                and_(
                    Submission.status == SubmissionStatus.FORWARDED,
                    Submission.forwarded_at < now - self.settings.retention_auto_reject_after,
                ),
            )
            for submission in due:
                eventlog.record(session, submission, REJECT, {"problems": [NOT_PICKED_UP]})
                decide(submission, REJECT, now)
                submission.picked_up_at = None
                self.context.metrics.retention.labels("auto-reject").inc()

    async def _forget_event_logs(self, now: datetime) -> None:
        async with self.context.runtime.database.transaction() as session:
            due = await self._due(
                session,
                and_(
                    Submission.status == SubmissionStatus.DELETED,
                    Submission.last_event_at < now - self.settings.retention_event_log_after,
                ),
            )
            for submission in due:
                await session.execute(
                    delete(EventLogEntry).where(EventLogEntry.submission_id == submission.id)
                )
                await session.delete(submission)
                self.context.metrics.retention.labels("forget-event-log").inc()
