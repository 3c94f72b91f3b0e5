"""Idempotent event consumers: the handler's effect and the inbox row commit together,
the Kafka offset only after that. A poll's events share one transaction (one commit); offsets go
to Kafka at most once per `commit_interval` while events keep coming, and at once when they stop."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from opentelemetry.trace import SpanKind
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.bulk import insert_ignoring_duplicates, insert_new_rows
from ozg_common.db import Database
from ozg_common.events import CloudEvent, Event, Topic
from ozg_common.kafka import PLAINTEXT, KafkaSecurity
from ozg_common.logging import correlated
from ozg_common.tracing import continued_span

logger = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Any, CloudEvent], Awaitable[None]]
"""Applies one event inside the given transaction; `Any` is the handler's own Event subclass."""

MAX_HANDLER_ATTEMPTS = 5
"""Runs of a handler on one event, its failed run inside a batch included, before it is parked."""


class PoisonEvent(Exception):
    """Raised by a handler for an event that can never be applied (a forgery, a broken promise of
    its producer): the event is parked at once, without the retries a passing failure gets."""


@dataclass(frozen=True)
class _Polled:
    """A polled record, decoded once; `event` is None for a record this group skips."""

    record: ConsumerRecord[bytes, bytes]
    event: tuple[CloudEvent, Handler] | None


class _HandlerFailed(Exception):
    """A handler raised inside a batch: the batch rolls back and splits around `index`."""

    def __init__(self, index: int, envelope: CloudEvent) -> None:
        super().__init__(index, envelope.id)
        self.index = index
        self.envelope = envelope


@contextmanager
def _traced(envelope: CloudEvent) -> Iterator[None]:
    """The event's correlation id in the logs and its trace continued, around its handler."""
    with (
        correlated(envelope.extensions.get("correlationid") or envelope.subject),
        continued_span(f"consume {envelope.type}", envelope.extensions, SpanKind.CONSUMER),
    ):
        yield


class _CommitOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: "EventConsumer") -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self.consumer.commit_processed()
        self.consumer.forget(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        return None


class EventConsumer:
    """One consumer group member that applies typed events exactly once per group."""

    def __init__(
        self,
        *,
        database: Database,
        inbox: Table,
        bootstrap_servers: str,
        group_id: str,
        topics: Sequence[Topic],
        handlers: Mapping[type[Event], Handler],
        max_records: int = 200,
        commit_interval: float = 1.0,
        topic_prefix: str = "",
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        self.database = database
        self.inbox = inbox
        self.bootstrap_servers = bootstrap_servers
        self.security = security
        self.group_id = group_id
        # A run with its own topics also gets its own consumer group: runs sharing a group would
        # rebalance each other (stalls, failed commits) although they never share a partition.
        self.kafka_group_id = topic_prefix + group_id
        self.topics = [topic_prefix + t.name for t in topics]
        self.handlers = {model.cloud_type(): handler for model, handler in handlers.items()}
        self._handled_types = {event_type.encode() for event_type in self.handlers}
        self.max_records = max_records
        self.commit_interval = commit_interval
        self.consumed_total = 0
        self.lag: dict[str, int] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._processed: dict[TopicPartition, int] = {}
        self._positions: dict[TopicPartition, int] = {}

    async def run(self) -> None:
        """Consume forever, reconnecting after broker outages."""
        while True:
            consumer = AIOKafkaConsumer(
                **self.security.client_options(),
                bootstrap_servers=self.bootstrap_servers,
                group_id=self.kafka_group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                isolation_level="read_committed",
                max_poll_interval_ms=300000,
                # Topics created by another service after we subscribed are found within seconds.
                metadata_max_age_ms=10000,
            )
            try:
                await consumer.start()
                consumer.subscribe(self.topics, listener=_CommitOnRevoke(self))
                self._consumer = consumer
                await self._poll_forever(consumer)
            except asyncio.CancelledError:
                # Shutting down: the next member need not apply again what this one applied since its
                # last commit (the inbox would make that harmless, but slow to start).
                with contextlib.suppress(KafkaError, OSError, TimeoutError):
                    async with asyncio.timeout(5):
                        await self.commit_processed()
                raise
            except (KafkaError, OSError) as exc:
                logger.warning("consumer: kafka unavailable, reconnecting", extra={"error": repr(exc)})
                await asyncio.sleep(1)
            finally:
                self._consumer = None
                self.forget(list(self._positions))
                try:
                    async with asyncio.timeout(10):
                        await consumer.stop()
                except (KafkaError, OSError, TimeoutError):
                    logger.debug("consumer stop failed", exc_info=True)

    async def _poll_forever(self, consumer: AIOKafkaConsumer) -> None:
        commit_due = 0.0
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=self.max_records)
            if batches:
                await self.apply([record for records in batches.values() for record in records])
                self._positions.update(self._processed)
            # Each offset commit is a replicated write on the brokers. Under load, one per interval
            # instead of one per poll; an event applied again after a crash meets its inbox row.
            now = time.monotonic()
            if not batches or now >= commit_due:
                await self.commit_processed()
                commit_due = now + self.commit_interval
            self._update_lag(consumer)

    async def commit_processed(self) -> None:
        """Commit the offsets of everything whose transaction has committed."""
        if self._consumer is None or not self._processed:
            return
        offsets, self._processed = self._processed, {}
        await self.before_commit(offsets)
        await self._consumer.commit(offsets)

    async def before_commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Extension point between the handler's transaction and the offset commit."""

    def _update_lag(self, consumer: AIOKafkaConsumer) -> None:
        # After every poll, idle ones too: a partition that stopped receiving keeps a true lag
        # instead of the figure of its last busy poll.
        for partition in consumer.assignment():
            highwater = consumer.highwater(partition)
            position = self._positions.get(partition)
            if highwater is not None and position is not None:
                self.lag[f"{partition.topic}/{partition.partition}"] = max(0, highwater - position)

    def forget(self, partitions: Sequence[TopicPartition]) -> None:
        """Drop what we know of partitions another member now owns: their lag is its to report."""
        for partition in partitions:
            self._positions.pop(partition, None)
            self.lag.pop(f"{partition.topic}/{partition.partition}", None)

    async def apply(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        """Apply a poll's records, each at most once, in one transaction; note their offsets.

        One commit for the whole poll instead of one per event. A handler that raises splits the
        batch around its record, which gets the one-by-one retries and is parked if it keeps failing.
        """
        await self._apply_batch([self._decode(record) for record in records])

    def _decode(self, record: ConsumerRecord[bytes, bytes]) -> _Polled:
        # Most records on a topic are other consumers' business: those are passed over by their
        # type header, without parsing the payload (a member of a busy group sees many of them).
        # The last ce_type header counts, as in CloudEvent.from_kafka.
        event_type = next((value for name, value in reversed(record.headers) if name == "ce_type"), None)
        if event_type is not None and event_type not in self._handled_types:
            return _Polled(record, None)
        try:
            envelope = CloudEvent.from_kafka(record.headers, record.value or b"{}")
        except (KeyError, ValueError):
            logger.error(
                "dropping a record that is no CloudEvent",
                extra={"topic": record.topic, "offset": record.offset},
            )
            return _Polled(record, None)
        handler = self.handlers.get(envelope.type)
        return _Polled(record, (envelope, handler) if handler else None)

    async def _apply_batch(self, batch: list[_Polled]) -> None:
        while any(polled.event for polled in batch):
            try:
                await self._apply_together(batch)
            except _HandlerFailed as failed:
                logger.warning(
                    "handler failed inside a batch; applying the batch around its event",
                    extra={
                        "event_id": failed.envelope.id,
                        "event_type": failed.envelope.type,
                        "error": repr(failed.__cause__),
                    },
                )
                # The records before it succeeded once already: most likely they do again.
                await self._apply_batch(batch[: failed.index])
                if isinstance(failed.__cause__, PoisonEvent):
                    await self._park_poison(batch[failed.index], failed.__cause__)
                else:
                    await self._apply_alone(batch[failed.index], failed_attempts=1)
                batch = batch[failed.index + 1 :]
            except Exception:
                # The inbox insert or the commit failed: no event to blame, so each on its own.
                logger.warning("batch failed; applying its events one by one", exc_info=True)
                for polled in batch:
                    await self._apply_alone(polled)
                return
            else:
                break
        self._done(batch)

    async def _apply_together(self, batch: list[_Polled]) -> None:
        """One transaction: the inbox rows of the batch, then the handlers of the new events in order."""
        events = [(index, polled.event) for index, polled in enumerate(batch) if polled.event]
        async with self.database.transaction() as session:
            rows = [self._inbox_row(envelope, "done") for _, (envelope, _) in events]
            fresh = await insert_new_rows(session, self.inbox, rows, returning="event_id")
            for index, (envelope, handler) in events:
                if envelope.id not in fresh:
                    continue
                fresh.discard(envelope.id)  # the same event twice in one poll: once is enough
                with _traced(envelope):
                    try:
                        await handler(session, envelope.payload(), envelope)
                        # Flush now, so a failing write is blamed on its own event, not the next one
                        # (a handler that wrote through Core statements left nothing to flush).
                        if session.new or session.dirty or session.deleted:
                            await session.flush()
                    except Exception as exc:
                        raise _HandlerFailed(index, envelope) from exc

    async def _apply_alone(self, polled: _Polled, *, failed_attempts: int = 0) -> None:
        """One event in its own transaction, retried; parked after MAX_HANDLER_ATTEMPTS failures (a
        PoisonEvent at once)."""
        if polled.event:
            envelope, handler = polled.event
            with _traced(envelope):
                attempt = failed_attempts
                while True:
                    if attempt:
                        await asyncio.sleep(0.2 * 2**attempt)
                    attempt += 1
                    try:
                        await self._apply(handler, envelope)
                        break
                    except PoisonEvent as exc:
                        await self._park_poison(polled, exc)
                        return
                    except Exception as exc:
                        if attempt >= MAX_HANDLER_ATTEMPTS:
                            logger.exception(
                                "event parked after failing handler",
                                extra={"event_id": envelope.id, "event_type": envelope.type},
                            )
                            await self._park(envelope, exc)
                            break
        self._done([polled])

    async def _park_poison(self, polled: _Polled, exc: PoisonEvent) -> None:
        """Park an event its handler called poison, without running the handler again."""
        assert polled.event is not None
        envelope = polled.event[0]
        logger.error(
            "event parked: it can never be applied",
            extra={"event_id": envelope.id, "event_type": envelope.type, "error": str(exc)},
        )
        await self._park(envelope, exc)
        self._done([polled])

    def _done(self, batch: Sequence[_Polled]) -> None:
        """Note what has committed, so its offsets go to Kafka with the next offset commit."""
        for polled in batch:
            record = polled.record
            self._processed[TopicPartition(record.topic, record.partition)] = record.offset + 1
            if polled.event:
                self.consumed_total += 1

    async def _apply(self, handler: Handler, envelope: CloudEvent) -> None:
        async with self.database.transaction() as session:
            fresh = await insert_ignoring_duplicates(session, self.inbox, self._inbox_row(envelope, "done"))
            if not fresh:
                return
            payload = envelope.payload()
            await handler(session, payload, envelope)

    async def _park(self, envelope: CloudEvent, exc: Exception) -> None:
        row = self._inbox_row(envelope, "failed") | {"error": repr(exc)[:2000]}
        async with self.database.transaction() as session:
            await insert_ignoring_duplicates(session, self.inbox, row)

    def _inbox_row(self, envelope: CloudEvent, outcome: str) -> dict[str, Any]:
        return {
            "consumer": self.group_id,
            "event_id": envelope.id,
            "event_type": envelope.type,
            "processed_at": datetime.now(UTC),
            "outcome": outcome,
        }
