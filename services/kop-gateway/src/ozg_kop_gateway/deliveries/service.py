"""Deliveries after their creation: moved on by each attempt's outcome, expired, replayed by operators."""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.contracts.delivery import DeliveryDeadLettered, DeliverySucceeded
from ozg_common.events import Event
from ozg_common.outbox import Outbox
from ozg_kop_gateway.deliveries import repository
from ozg_kop_gateway.deliveries.metrics import DeliveryMetrics
from ozg_kop_gateway.deliveries.policy import RetryPolicy
from ozg_kop_gateway.deliveries.sender import Job, Outcome
from ozg_kop_gateway.errors import DeliveryNotFound, DeliveryNotReplayable
from ozg_kop_gateway.models import Delivery, DeliveryAttempt, DeliveryKind, DeliveryState

logger = logging.getLogger(__name__)

HORIZON_REACHED = "retry horizon reached"


@dataclass(frozen=True)
class Verdict:
    """What one outcome does to its delivery, decided before anything is written."""

    job: Job
    outcome: Outcome
    state: DeliveryState
    """SUCCEEDED, PENDING (try again at `next_attempt_at`) or DEAD_LETTERED."""
    error: str = ""
    """The delivery's `last_error` after a failure."""
    next_attempt_at: datetime | None = None


class Deliveries:
    """The delivery lifecycle; every change goes through the caller's transaction with its events."""

    def __init__(
        self, outbox: Outbox, policy: RetryPolicy, horizon: timedelta, metrics: DeliveryMetrics
    ) -> None:
        self.outbox = outbox
        self.policy = policy
        self.horizon = horizon
        self.metrics = metrics

    async def record_many(
        self, session: AsyncSession, results: Sequence[tuple[Job, Outcome]]
    ) -> list[DeliveryState]:
        """Store a batch of attempts and move their deliveries on: delivered, rescheduled or dead-lettered.

        The attempts, the successes, the retries and the events take the same few statements
        whatever the batch size; dead letters (rare) are moved one by one. Returns what each outcome
        decided, in order.
        """
        if not results:
            return []
        now = datetime.now(UTC)
        verdicts = [self._judge(job, outcome, now) for job, outcome in results]
        await repository.add_attempts(session, [_attempt_row(job, outcome) for job, outcome in results])
        decisive = _decisive(verdicts)
        events: list[Event] = [
            _succeeded(verdict, now)
            for verdict in await self._deliver(
                session, [v for v in decisive if v.state is DeliveryState.SUCCEEDED], now
            )
        ]
        await repository.reschedule(
            session,
            [
                repository.Retry(v.job.delivery_id, v.next_attempt_at, v.outcome.status_code, v.error)
                for v in decisive
                if v.state is DeliveryState.PENDING and v.next_attempt_at is not None
            ],
        )
        for verdict in decisive:
            if verdict.state is DeliveryState.DEAD_LETTERED:
                job = verdict.job
                if await repository.dead_letter(
                    session, job.delivery_id, status=verdict.outcome.status_code, error=verdict.error
                ):
                    events.append(self._dead_lettered(job.delivery_id, job, verdict.error))
        await self.outbox.publish_many(session, events)
        return [verdict.state for verdict in verdicts]

    async def expire(self, session: AsyncSession, delivery: Delivery) -> None:
        """Dead-letter a delivery that ran past its horizon without being attempted again."""
        reason = HORIZON_REACHED + (f"; last: {delivery.last_error}" if delivery.last_error else "")
        delivery.state = DeliveryState.DEAD_LETTERED
        delivery.next_attempt_at = None
        delivery.last_error = reason
        await self.outbox.publish(session, self._dead_lettered(delivery.id, delivery, reason))

    async def replay(self, session: AsyncSession, delivery: Delivery) -> None:
        """Give a dead letter a fresh horizon; it keeps its id, so receivers still dedupe."""
        if delivery.state != DeliveryState.DEAD_LETTERED:
            raise DeliveryNotReplayable(f"Delivery {delivery.id} is {delivery.state}.")
        now = datetime.now(UTC)
        delivery.state = DeliveryState.PENDING
        delivery.next_attempt_at = now
        delivery.expires_at = now + self.horizon

    async def replay_one(self, session: AsyncSession, delivery_id: uuid.UUID) -> Delivery:
        """Replay one dead letter, locked against the worker while it changes."""
        delivery = await repository.get(session, delivery_id, for_update=True)
        if delivery is None:
            raise DeliveryNotFound(f"No delivery {delivery_id}.")
        await self.replay(session, delivery)
        return delivery

    async def replay_dead_letters(
        self, session: AsyncSession, destination_id: str | None, *, limit: int
    ) -> int:
        """Replay up to `limit` dead letters (of one destination, or of all); returns how many."""
        rows = await repository.dead_letters(session, destination_id, limit=limit)
        for delivery in rows:
            await self.replay(session, delivery)
        return len(rows)

    def _judge(self, job: Job, outcome: Outcome, now: datetime) -> Verdict:
        """Delivered, retried later (the delay drawn here, jitter included) or dead-lettered."""
        if outcome.succeeded:
            return Verdict(job, outcome, DeliveryState.SUCCEEDED)
        next_at = now + timedelta(seconds=self.policy.delay(job.attempt, outcome.retry_after))
        if outcome.final or next_at > job.expires_at:
            reason = outcome.describe() if outcome.final else f"{HORIZON_REACHED}; last: {outcome.describe()}"
            return Verdict(job, outcome, DeliveryState.DEAD_LETTERED, error=reason)
        return Verdict(job, outcome, DeliveryState.PENDING, error=outcome.describe(), next_attempt_at=next_at)

    async def _deliver(self, session: AsyncSession, successes: list[Verdict], now: datetime) -> list[Verdict]:
        """Mark the successes delivered; returns those that were still pending, to be announced."""
        by_status: dict[int | None, list[uuid.UUID]] = {}
        for verdict in successes:
            by_status.setdefault(verdict.outcome.status_code, []).append(verdict.job.delivery_id)
        moved: set[uuid.UUID] = set()
        for status, ids in by_status.items():  # one UPDATE per 2xx status: in practice one
            moved.update(await repository.mark_delivered(session, ids, status=status, at=now))
        return [verdict for verdict in successes if verdict.job.delivery_id in moved]

    def _dead_lettered(self, delivery_id: Any, source: Job | Delivery, reason: str) -> DeliveryDeadLettered:
        """The event announcing a dead letter (counted and logged here), for the caller to publish."""
        attempts = source.attempt if isinstance(source, Job) else source.attempt_count
        event = DeliveryDeadLettered(
            case_id=source.case_id,
            delivery_id=str(delivery_id),
            submission_id=source.submission_id or "",
            destination_id=source.destination_id,
            attempts=attempts,
            last_error=reason[:2000],
            kind=DeliveryKind(source.kind).value,
        )
        self.metrics.dead_lettered.labels(source.destination_id).inc()
        logger.warning(
            "delivery dead-lettered",
            extra={
                "delivery_id": str(delivery_id),
                "destination_id": source.destination_id,
                "reason": reason,
            },
        )
        return event


async def search(
    session: AsyncSession,
    *,
    state: DeliveryState | None,
    destination_id: str | None,
    case_id: str | None,
    offset: int,
    limit: int,
) -> tuple[int, list[Delivery]]:
    """One page of deliveries, newest first, and how many match in all."""
    return await repository.search(
        session, state=state, destination_id=destination_id, case_id=case_id, offset=offset, limit=limit
    )


async def with_attempts(
    session: AsyncSession, delivery_id: uuid.UUID
) -> tuple[Delivery, list[DeliveryAttempt]]:
    """A delivery and its attempts, in order."""
    delivery = await repository.get(session, delivery_id)
    if delivery is None:
        raise DeliveryNotFound(f"No delivery {delivery_id}.")
    return delivery, await repository.attempts(session, delivery_id)


def _attempt_row(job: Job, outcome: Outcome) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "delivery_id": job.delivery_id,
        "number": job.attempt,
        "started_at": outcome.started_at,
        "duration_ms": round(outcome.duration_ms, 2),
        "url": outcome.url,
        "status_code": outcome.status_code,
        "error": outcome.error,
        "response_excerpt": outcome.excerpt,
    }


def _succeeded(verdict: Verdict, delivered_at: datetime) -> DeliverySucceeded:
    job = verdict.job
    return DeliverySucceeded(
        case_id=job.case_id,
        delivery_id=str(job.delivery_id),
        submission_id=job.submission_id or "",
        destination_id=job.destination_id,
        attempts=job.attempt,
        delivered_at=delivered_at,
        kind=job.kind.value,
        callback=verdict.outcome.callback,
    )


def _decisive(verdicts: list[Verdict]) -> list[Verdict]:
    """One verdict per delivery, with the effect of recording the outcomes one after another.

    A batch may hold two outcomes of one delivery (re-claimed after its lease while the first
    waited for the database): the first success or dead letter settles it, a retry only counts
    if nothing after it does.
    """
    by_delivery: dict[uuid.UUID, Verdict] = {}
    for verdict in verdicts:
        earlier = by_delivery.get(verdict.job.delivery_id)
        if earlier is None or earlier.state is DeliveryState.PENDING:
            by_delivery[verdict.job.delivery_id] = verdict
    return list(by_delivery.values())
