"""Transactional outbox: events are written with the state change and relayed to Kafka."""

import asyncio
import concurrent.futures
import contextlib
import logging
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.bulk import insert_many
from ozg_common.db import Database
from ozg_common.events import CloudEvent, Event
from ozg_common.logging import correlation_id
from ozg_common.tasks import await_chain, stop_within
from ozg_common.tracing import current_traceparent

logger = logging.getLogger(__name__)


def event_source(service_name: str) -> str:
    """The CloudEvents `source` of everything a service publishes: how a consumer recognises its own."""
    return f"/ozg-router/{service_name}"


class Outbox:
    """Writes events into the outbox table inside the caller's transaction."""

    def __init__(self, table: Table, source: str, *, topic_prefix: str = "") -> None:
        self.table = table
        self.source = source
        self.topic_prefix = topic_prefix

    async def publish(self, session: AsyncSession, event: Event) -> CloudEvent:
        """Stage `event`; it reaches Kafka only if the surrounding transaction commits."""
        envelope, row = self._row(event)
        await session.execute(self.table.insert().values(**row))
        return envelope

    async def publish_many(self, session: AsyncSession, events: Sequence[Event]) -> list[CloudEvent]:
        """Stage many events, in their order, with one INSERT (imports and seeds publish thousands)."""
        staged = [self._row(event) for event in events]
        await insert_many(session, self.table, [row for _, row in staged])
        return [envelope for envelope, _ in staged]

    def rows(self, events: Sequence[Event]) -> list[dict[str, Any]]:
        """The outbox rows of `events`, for a caller that inserts them with other rows in one
        statement; like `publish`, inside the transaction of the state change."""
        return [row for _, row in map(self._row, events)]

    def _row(self, event: Event) -> tuple[CloudEvent, dict[str, Any]]:
        extensions = {"correlationid": cid} if (cid := correlation_id.get()) else {}
        if traceparent := current_traceparent():
            # CloudEvents distributed-tracing extension: the consumer continues this trace.
            extensions["traceparent"] = traceparent
        envelope = CloudEvent.wrap(event, source=self.source, extensions=extensions)
        return envelope, {
            "event_id": envelope.id,
            "topic": self.topic_prefix + event.topic.name,
            "key": event.partition_key(),
            "headers": [[name, value.decode()] for name, value in envelope.kafka_headers()],
            "payload": envelope.kafka_value(),
            "created_at": envelope.time,
        }


ProducerFactory = Callable[[], AIOKafkaProducer]

FIRST_RETRY_SECONDS = 0.5
"""Pause after the first failed attempt to publish; each further failure doubles it."""
LONGEST_RETRY_SECONDS = 2.0
"""Longest pause between attempts while Kafka fails: the relay publishes again at most this long after
the cluster takes writes again (bench/chaos.py holds every fault's recovery to 60 s; a pause of 10 s
could add 10 s to it on its own). Retrying that often costs little: against a cluster that
lists dead brokers an attempt waits out the producer's request timeout (15 s) anyway, and against no
reachable broker it is one refused connection."""


def _stack(thread: threading.Thread) -> str:
    frame = sys._current_frames().get(thread.ident or 0)
    return "".join(traceback.format_stack(frame)) if frame else "gone"


async def _where_stuck(thread: threading.Thread, task: asyncio.Task[None]) -> str:
    """What a thread that would not stop is doing: its own stack, and the stacks of its event
    loop's tasks if the loop still runs callbacks (a rare hang is only mendable once seen)."""
    parts = ["thread:\n" + _stack(thread)]
    loop = task.get_loop()
    collected: concurrent.futures.Future[str] = concurrent.futures.Future()

    def collect() -> None:
        if not collected.set_running_or_notify_cancel():
            return  # asked too late: the loop was blocked, and the answer is no longer awaited
        try:
            collected.set_result("\n".join(map(await_chain, asyncio.all_tasks(loop))))
        except Exception as exc:  # a diagnosis must not fail the shutdown it explains
            collected.set_exception(exc)

    try:
        loop.call_soon_threadsafe(collect)
    except RuntimeError:  # its loop has closed meanwhile
        return "\n".join([*parts, "tasks: its loop has closed"])
    try:
        async with asyncio.timeout(1.0):
            parts.append("tasks:\n" + await asyncio.wrap_future(collected))
    except TimeoutError:
        parts.append("tasks: its loop runs no callbacks")
    except Exception as exc:
        parts.append(f"tasks: not listed ({exc!r})")
    return "\n".join(parts)


class OutboxRelay:
    """Publishes unsent outbox rows in order, then marks them; a crash in between only repeats.

    Consumers deduplicate by CloudEvent id (the inbox), so a repeat has no second effect.
    """

    def __init__(
        self,
        database: Database,
        table: Table,
        producer_factory: ProducerFactory,
        *,
        batch_size: int = 500,
        poll_interval: float = 0.5,
        round_interval: float = 0.0,
        keep_published: timedelta = timedelta(hours=1),
        stop_timeout: float = 15.0,
    ) -> None:
        self.database = database
        self.table = table
        self.producer_factory = producer_factory
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.round_interval = round_interval
        """Least seconds from one round's start to the next: a write soon after a round waits for
        the next one, with the writes that follow it (under load a round per write would cost a
        Kafka request and, downstream, a consumer transaction per event); a write after a quiet
        spell leaves at once."""
        self._last_round = 0.0
        self.keep_published = keep_published
        self.published_total = 0
        self.stop_timeout = stop_timeout
        """Seconds a cancelled `run_in_thread` waits for its thread (producer stop and pool close
        take a few at most)."""
        self._rounds_database = database
        """Where the rounds read and mark rows: `database`, or the thread's own in `run_in_thread`."""
        self._wakeup = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake_pending = False
        self._producer: AIOKafkaProducer | None = None
        self._thread: threading.Thread | None = None
        self._last_purge = datetime.now(UTC)
        database.on_commit(self.wake)

    def wake(self) -> None:
        """Called after every commit so a new event leaves without waiting for the next poll; from
        any thread (commits happen on the service's loop, the relay may run on its own)."""
        loop = self._loop
        if loop is None or self._wake_pending:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wakeup.set()
            return
        # One wake-up per round is enough for any number of commits: the next round reads them
        # all. The round clears the flag before it reads, so a commit after that sends another.
        self._wake_pending = True
        with contextlib.suppress(RuntimeError):  # the relay's loop has just closed
            loop.call_soon_threadsafe(self._wakeup.set)

    async def run_in_thread(self) -> None:
        """`run` on an event loop of its own, in a thread, with connections of its own.

        On the service's loop every step of a round (read, send, acknowledgement, mark, commit)
        would wait behind whatever else is ready there, so under a load of requests events would
        wait in the outbox behind the requests. In a thread the round only shares the GIL, which
        passes between threads every few milliseconds. Cancelling this stops the thread.
        """
        if self._thread is not None and self._thread.is_alive():
            # Two threads would share this relay's connections and producer across event loops.
            raise RuntimeError("the outbox relay's previous thread still runs")
        started: concurrent.futures.Future[asyncio.Task[None]] = concurrent.futures.Future()
        finished: concurrent.futures.Future[None] = concurrent.futures.Future()
        thread = self._thread = threading.Thread(
            target=self._thread_main, args=(started, finished), name="outbox-relay", daemon=True
        )
        thread.start()
        try:
            await asyncio.wrap_future(finished)
        except asyncio.CancelledError:
            # Shielded: a second cancel must not leave the thread running with nobody to stop it.
            task = await asyncio.shield(asyncio.wrap_future(started))
            loop = task.get_loop()

            def cancel(again: bool) -> None:
                if again:
                    logger.warning(
                        "outbox relay thread goes on; cancelling again", extra={"where": _stack(thread)}
                    )
                with contextlib.suppress(RuntimeError):  # its loop has closed already
                    loop.call_soon_threadsafe(task.cancel)

            # Bounded: a relay that does not stop must not hold up the service's shutdown (its
            # unmarked events stay in the outbox for the next start); the thread is a daemon.
            try:
                await stop_within(cancel, lambda: not thread.is_alive(), limit=self.stop_timeout)
            finally:
                if thread.is_alive():
                    logger.error(
                        "outbox relay thread did not stop in time; left behind",
                        extra={"seconds": self.stop_timeout, "where": await _where_stuck(thread, task)},
                    )
            raise
        # `run` only ends when cancelled: a relay that stopped by itself (a stray cancellation
        # inside the client, say) must be restarted by the supervisor, not end quietly.
        raise RuntimeError("the outbox relay thread ended by itself")

    def _thread_main(
        self,
        started: concurrent.futures.Future[asyncio.Task[None]],
        finished: concurrent.futures.Future[None],
    ) -> None:
        async def main() -> None:
            task = asyncio.current_task()
            assert task is not None
            if started.set_running_or_notify_cancel():
                started.set_result(task)
            database = Database(self.database.url, pool_size=2)
            self._rounds_database, self._wakeup = database, asyncio.Event()
            try:
                await self.run()
            finally:
                self._rounds_database = self.database
                await database.dispose()

        outcome: BaseException | None = None
        try:
            asyncio.run(main())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:
            outcome = exc
        # Cancelling the awaiting task cancels `finished` too: then nobody waits for the outcome.
        if finished.set_running_or_notify_cancel():
            if outcome is None:
                finished.set_result(None)
            else:
                finished.set_exception(outcome)

    async def backlog(self) -> int:
        async with self.database.sessionmaker() as session:
            count = await session.scalar(
                select(func.count()).select_from(self.table).where(self.table.c.published_at.is_(None))
            )
        return int(count or 0)

    async def run(self) -> None:
        """Relay forever; Kafka outages are waited out, never skipped."""
        backoff = FIRST_RETRY_SECONDS
        loop = self._loop = asyncio.get_running_loop()
        try:
            while True:
                # Cleared before reading, so a commit during the batch wakes the next round at once.
                self._wakeup.clear()
                self._wake_pending = False
                self._last_round = loop.time()
                try:
                    sent = await self.relay_once()
                    backoff = FIRST_RETRY_SECONDS
                except (KafkaError, OSError) as exc:
                    # One line per outage: the runtime's Kafka watch says what is wrong and when it is over.
                    log = logger.warning if backoff == FIRST_RETRY_SECONDS else logger.debug
                    log("outbox relay: kafka unavailable, retrying", extra={"error": repr(exc)})
                    # An idempotent producer can be wedged after a broker restart: start afresh.
                    await self._drop_producer()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, LONGEST_RETRY_SECONDS)
                    continue
                if sent < self.batch_size:
                    # Not asyncio.wait_for: on 3.11 it swallows a cancel that races with the wake-up.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.poll_interval):
                            await self._wakeup.wait()
                            await asyncio.sleep(self._last_round + self.round_interval - loop.time())
        finally:
            self._loop = None
            await self.close()

    async def close(self) -> None:
        """Stop the producer; `run` does this itself when cancelled."""
        await self._drop_producer()

    async def relay_once(self) -> int:
        """Send one batch of unsent rows; returns how many were sent."""
        # Not database.transaction(): its commit hook would wake this relay for its own writes.
        async with self._rounds_database.sessionmaker() as session, session.begin():
            query = (
                select(
                    self.table.c.id,
                    self.table.c.topic,
                    self.table.c.key,
                    self.table.c.headers,
                    self.table.c.payload,
                )
                .where(self.table.c.published_at.is_(None))
                .order_by(self.table.c.id)
                .limit(self.batch_size)
            )
            if not self.database.is_sqlite:
                # Replicas share the table: each row is relayed by whoever locked it.
                query = query.with_for_update(skip_locked=True)
            rows = (await session.execute(query)).all()
            if not rows:
                await self._purge(session)
                return 0
            producer = await self._ensure_producer()
            futures: list[asyncio.Future[Any]] = []
            for row in rows:
                futures.append(
                    await producer.send(
                        row.topic,
                        value=row.payload,
                        key=row.key.encode(),
                        headers=[(name, value.encode()) for name, value in row.headers],
                    )
                )
            await asyncio.gather(*futures)
            await self.before_mark([row.id for row in rows])
            await session.execute(
                update(self.table)
                .where(self.table.c.id.in_([row.id for row in rows]))
                .values(published_at=datetime.now(UTC))
            )
        self.published_total += len(rows)
        return len(rows)

    async def before_mark(self, row_ids: list[int]) -> None:
        """Extension point between publish and mark; crash tests pause here."""

    async def _purge(self, session: AsyncSession) -> None:
        now = datetime.now(UTC)
        if now - self._last_purge < timedelta(minutes=1):
            return
        self._last_purge = now
        await session.execute(delete(self.table).where(self.table.c.published_at < now - self.keep_published))

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self.producer_factory()
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _drop_producer(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            try:
                async with asyncio.timeout(5):
                    await producer.stop()
            except (KafkaError, OSError, TimeoutError):
                logger.debug("producer stop failed", exc_info=True)
