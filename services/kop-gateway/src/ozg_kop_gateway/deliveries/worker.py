"""The delivery worker: claims due deliveries from the database and attempts them in parallel lanes.

The schedule lives in the deliveries table. A claim moves a delivery's `next_attempt_at` a lease
ahead, so a worker that dies mid-attempt leaves it to be claimed again once the lease runs out; the
delivery keeps its id (the `webhook-id`), so the receiver can tell a repeat. Outcomes are written in
batches by a recorder, with the attempt rows and the events, in one transaction per batch.
"""

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row

from ozg_common.db import Database
from ozg_common.tasks import wait_until_set
from ozg_kop_gateway.deliveries import repository
from ozg_kop_gateway.deliveries.lanes import Lanes
from ozg_kop_gateway.deliveries.metrics import DeliveryMetrics
from ozg_kop_gateway.deliveries.sender import Job, Outcome, Sender, Target
from ozg_kop_gateway.deliveries.service import Deliveries
from ozg_kop_gateway.destinations.service import SigningSecrets
from ozg_kop_gateway.models import DeliveryKind, DeliveryState
from ozg_kop_gateway.settings import KopGatewaySettings

logger = logging.getLogger(__name__)

RECORD_BATCH = 500


class DeliveryWorker:
    """Claims, attempts and records deliveries until cancelled."""

    def __init__(
        self,
        database: Database,
        deliveries: Deliveries,
        signing: SigningSecrets,
        lanes: Lanes,
        settings: KopGatewaySettings,
        metrics: DeliveryMetrics,
    ) -> None:
        self.database = database
        self.deliveries = deliveries
        self.signing = signing
        self.lanes = lanes
        self.settings = settings
        self.metrics = metrics
        self.sender = Sender(settings)
        self.lease = timedelta(seconds=settings.claim_lease)
        self._wakeup = asyncio.Event()
        self._attempts: set[asyncio.Task[None]] = set()
        self._outcomes: asyncio.Queue[tuple[Job, Outcome]] = asyncio.Queue()
        self._last_sweep = 0.0
        self._sweep_every = min(5.0, settings.poll_interval * 10)
        database.on_commit(self.wake)

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self) -> None:
        recorder = asyncio.create_task(self._record_forever(), name="delivery-recorder")
        try:
            await self._claim_forever()
        finally:
            for task in [*self._attempts, recorder]:
                task.cancel()
            await asyncio.gather(*self._attempts, recorder, return_exceptions=True)
            await self.sender.aclose()

    async def _claim_forever(self) -> None:
        while True:
            self._wakeup.clear()
            wanted, claimed = await self._claim()
            if time.monotonic() - self._last_sweep > self._sweep_every:
                await self._sweep()
            if wanted and claimed == wanted:
                continue  # there may be more due right now
            if await wait_until_set(self._wakeup, self.settings.poll_interval):
                # Every commit wakes the claimer: gather a few before the next claim query.
                await asyncio.sleep(self.settings.claim_debounce)

    async def _claim(self) -> tuple[int, int]:
        """Claim what the lanes have room for; returns (rows asked for, rows found)."""
        free = self.settings.max_in_flight - len(self._attempts)
        if free <= 0:
            return 0, 0
        wanted = min(self.settings.claim_batch, free)
        clock = time.monotonic()
        now = datetime.now(UTC)
        # Not `database.transaction()`: a claim's own commit must not wake the claimer again.
        async with self.database.sessionmaker() as session, session.begin():
            rows = await repository.due(session, now, limit=wanted, excluding=self.lanes.blocked(clock))
            if not rows:
                return wanted, 0
            room: dict[str, int] = {}
            taken = []
            for row in rows:
                left = room.setdefault(row.destination_id, self.lanes[row.destination_id].room(clock))
                if left <= 0:
                    continue
                room[row.destination_id] = left - 1
                taken.append(row)
            await repository.lease(session, [row.id for row in taken], now + self.lease)
            secrets = await self.signing.for_destinations(
                session,
                {row.destination_id for row in taken},
                explicit={row.destination_id for row in taken if row.explicit_secrets},
            )
            jobs = [claimed_job(row, secrets[row.destination_id]) for row in taken]
        for job in jobs:
            self.lanes[job.destination_id].start(clock)
            task = asyncio.create_task(self._attempt(job, started=clock))
            self._attempts.add(task)
            task.add_done_callback(self._attempts.discard)
        self.metrics.in_flight.set(len(self._attempts))
        return wanted, len(rows)

    async def _attempt(self, job: Job, *, started: float) -> None:
        outcome = await self.sender.attempt(job)
        lane = self.lanes[job.destination_id]
        was_open = lane.opened_at is not None
        lane.finish(
            reached=outcome.reached,
            succeeded=outcome.succeeded,
            now=time.monotonic(),
            started=started,
            status=outcome.status_code,
        )
        if (lane.opened_at is not None) != was_open:
            self.metrics.circuit_open.labels(job.destination_id).set(0 if lane.opened_at is None else 1)
            logger.info(
                "circuit %s",
                "opened" if lane.opened_at is not None else "closed",
                extra={"destination_id": job.destination_id},
            )
        result = "success" if outcome.succeeded else "failure" if outcome.reached else "refused"
        self.metrics.attempts.labels(job.destination_id, result).inc()
        self.metrics.attempt_seconds.observe(outcome.duration_ms / 1000)
        self._outcomes.put_nowait((job, outcome))
        self.wake()

    async def _record_forever(self) -> None:
        while True:
            batch = [await self._outcomes.get()]
            while len(batch) < RECORD_BATCH and not self._outcomes.empty():
                batch.append(self._outcomes.get_nowait())
            await self._record(batch)

    async def _record(self, batch: list[tuple[Job, Outcome]]) -> None:
        delay = 0.2
        while True:
            try:
                async with self.database.transaction() as session:
                    states = await self.deliveries.record_many(session, batch)
                break
            except Exception:
                # The attempts happened; keep their outcomes until the database takes them.
                logger.exception("recording delivery outcomes failed; retrying", extra={"count": len(batch)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        for (job, _), state in zip(batch, states, strict=True):
            if state is DeliveryState.SUCCEEDED:
                self.metrics.succeeded.labels(job.destination_id).inc()

    async def _sweep(self) -> None:
        self._last_sweep = time.monotonic()
        self.lanes.forget_idle(self._last_sweep)
        async with self.database.transaction() as session:
            for delivery in await repository.expired(session, datetime.now(UTC), limit=500):
                await self.deliveries.expire(session, delivery)


def claimed_job(row: Row[Any], secrets: list[str]) -> Job:
    """The attempt of a delivery claimed by `repository.due`, signed with `secrets`."""
    return Job(
        delivery_id=row.id,
        kind=DeliveryKind(row.kind),
        destination_id=row.destination_id,
        case_id=row.case_id,
        submission_id=row.submission_id,
        payload=row.payload,
        attempt=row.attempt_count + 1,
        expires_at=row.expires_at,
        target=Target(row.url, row.channel_type, row.signature_scheme, row.status)
        if row.target_id is not None
        else None,
        secrets=secrets,
    )
