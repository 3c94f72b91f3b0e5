"""Deliveries after their creation: moved on by each attempt's outcome, expired, replayed by operators."""

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.contracts.delivery import DeliveryDeadLettered, DeliverySucceeded
from ozg_common.outbox import Outbox
from ozg_kop_gateway.deliveries.metrics import DeliveryMetrics
from ozg_kop_gateway.deliveries.policy import RetryPolicy
from ozg_kop_gateway.deliveries.sender import Job, Outcome
from ozg_kop_gateway.errors import DeliveryNotReplayable
from ozg_kop_gateway.models import Delivery, DeliveryAttempt, DeliveryKind, DeliveryState

logger = logging.getLogger(__name__)

HORIZON_REACHED = "retry horizon reached"


class Deliveries:
    """The delivery lifecycle; every change goes through the caller's transaction with its events."""

    def __init__(
        self, outbox: Outbox, policy: RetryPolicy, horizon: timedelta, metrics: DeliveryMetrics
    ) -> None:
        self.outbox = outbox
        self.policy = policy
        self.horizon = horizon
        self.metrics = metrics

    async def record(self, session: AsyncSession, job: Job, outcome: Outcome) -> DeliveryState:
        """Store the attempt and move the delivery on: delivered, rescheduled or dead-lettered."""
        session.add(
            DeliveryAttempt(
                delivery_id=job.delivery_id,
                number=job.attempt,
                started_at=outcome.started_at,
                duration_ms=round(outcome.duration_ms, 2),
                url=outcome.url,
                status_code=outcome.status_code,
                error=outcome.error,
                response_excerpt=outcome.excerpt,
            )
        )
        now = datetime.now(UTC)
        if outcome.succeeded:
            changed = await self._update(
                session,
                job,
                state=DeliveryState.SUCCEEDED,
                next_attempt_at=None,
                delivered_at=now,
                last_status=outcome.status_code,
                last_error=None,
            )
            if changed:
                await self.outbox.publish(
                    session,
                    DeliverySucceeded(
                        case_id=job.case_id,
                        delivery_id=str(job.delivery_id),
                        submission_id=job.submission_id or "",
                        destination_id=job.destination_id,
                        attempts=job.attempt,
                        delivered_at=now,
                        kind=job.kind.value,
                    ),
                )
            return DeliveryState.SUCCEEDED
        next_at = now + timedelta(seconds=self.policy.delay(job.attempt, outcome.retry_after))
        if outcome.final or next_at > job.expires_at:
            reason = outcome.describe() if outcome.final else f"{HORIZON_REACHED}; last: {outcome.describe()}"
            changed = await self._update(
                session,
                job,
                state=DeliveryState.DEAD_LETTERED,
                next_attempt_at=None,
                last_status=outcome.status_code,
                last_error=reason,
            )
            if changed:
                await self._announce_dead_letter(session, job.delivery_id, job, reason)
            return DeliveryState.DEAD_LETTERED
        await self._update(
            session,
            job,
            next_attempt_at=next_at,
            last_status=outcome.status_code,
            last_error=outcome.describe(),
        )
        return DeliveryState.PENDING

    async def expire(self, session: AsyncSession, delivery: Delivery) -> None:
        """Dead-letter a delivery that ran past its horizon without being attempted again."""
        reason = HORIZON_REACHED + (f"; last: {delivery.last_error}" if delivery.last_error else "")
        delivery.state = DeliveryState.DEAD_LETTERED
        delivery.next_attempt_at = None
        delivery.last_error = reason
        await self._announce_dead_letter(session, delivery.id, delivery, reason)

    async def replay(self, session: AsyncSession, delivery: Delivery) -> None:
        """Give a dead letter a fresh horizon; it keeps its id, so receivers still dedupe."""
        if delivery.state != DeliveryState.DEAD_LETTERED:
            raise DeliveryNotReplayable(f"Delivery {delivery.id} is {delivery.state}.")
        now = datetime.now(UTC)
        delivery.state = DeliveryState.PENDING
        delivery.next_attempt_at = now
        delivery.expires_at = now + self.horizon

    async def _update(self, session: AsyncSession, job: Job, **values: Any) -> bool:
        # Only a pending delivery moves: a late outcome after a replay or a re-claim changes nothing.
        result = await session.execute(
            update(Delivery)
            .where(Delivery.id == job.delivery_id, Delivery.state == DeliveryState.PENDING)
            .values(**values)
        )
        return bool(getattr(result, "rowcount", 0))

    async def _announce_dead_letter(
        self, session: AsyncSession, delivery_id: Any, source: Job | Delivery, reason: str
    ) -> None:
        attempts = source.attempt if isinstance(source, Job) else source.attempt_count
        await self.outbox.publish(
            session,
            DeliveryDeadLettered(
                case_id=source.case_id,
                delivery_id=str(delivery_id),
                submission_id=source.submission_id or "",
                destination_id=source.destination_id,
                attempts=attempts,
                last_error=reason[:2000],
                kind=DeliveryKind(source.kind).value,
            ),
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
