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

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.contracts.submission import SubmissionPickupReminder
from ozg_submission.lifecycle import machine
from ozg_submission.models import Submission
from ozg_submission.retention import repository
from ozg_submission.retention.repository import BATCH, Due
from ozg_submission.state import SubmissionState

logger = logging.getLogger(__name__)


class RetentionJob:
    """One pass deletes, reminds and rejects what is due; `run` repeats it forever."""

    def __init__(self, state: SubmissionState) -> None:
        self.state = state
        self.settings = state.settings

    async def run(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self.settings.retention_interval)

    async def run_once(self, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        s = self.settings
        await self._delete_where(
            repository.incomplete_since(now - s.retention_incomplete_after), "incomplete"
        )
        await self._delete_where(
            repository.awaiting_payment_since(now - s.retention_awaiting_payment_after), "payment-missing"
        )
        await self._delete_where(repository.picked_up_before(now - s.retention_after_pickup), "picked-up")
        await self._remind(now)
        await self._auto_reject(now)
        await self._delete_where(
            repository.never_picked_up_since(now - s.retention_unpicked_delete_after), "not-picked-up"
        )
        await self._forget_event_logs(now)

    async def _due(self, session: AsyncSession, condition: Due) -> Sequence[Submission]:
        return await repository.due(session, condition, lock=not self.state.runtime.database.is_sqlite)

    async def _delete_where(self, condition: Due, reason: str) -> None:
        while True:
            async with self.state.runtime.database.transaction() as session:
                due = await self._due(session, condition)
                for submission in due:
                    await machine.delete(session, self.state, submission, reason)
            if len(due) < BATCH:
                return

    async def _remind(self, now: datetime) -> None:
        for index, after in enumerate(sorted(self.settings.retention_reminders)):
            async with self.state.runtime.database.transaction() as session:
                due = await self._due(session, repository.reminder_due(now - after, index))
                for submission in due:
                    submission.reminders_sent = index + 1
                    await self.state.outbox.publish(session, self._reminder(submission, index + 1))
                    self.state.metrics.retention.labels("reminder").inc()
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
        async with self.state.runtime.database.transaction() as session:
            due = await self._due(
                session, repository.forwarded_since(now - self.settings.retention_auto_reject_after)
            )
            for submission in due:
                machine.reject_unpicked(session, self.state, submission, now)

    async def _forget_event_logs(self, now: datetime) -> None:
        async with self.state.runtime.database.transaction() as session:
            due = await self._due(
                session, repository.deleted_quiet_since(now - self.settings.retention_event_log_after)
            )
            for submission in due:
                await repository.forget(session, submission)
                self.state.metrics.retention.labels("forget-event-log").inc()
