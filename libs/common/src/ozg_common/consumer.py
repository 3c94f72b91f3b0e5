"""Idempotent event consumers: the handler's effect and the inbox row commit together,
the Kafka offset only after that."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from opentelemetry.trace import SpanKind
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.db import Database
from ozg_common.events import CloudEvent, Event, Topic
from ozg_common.logging import correlated
from ozg_common.messaging import insert_ignoring_duplicates
from ozg_common.tracing import continued_span

logger = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Any, CloudEvent], Awaitable[None]]
"""Applies one event inside the given transaction; `Any` is the handler's own Event subclass."""

MAX_HANDLER_ATTEMPTS = 5


class _CommitOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: "EventConsumer") -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self.consumer.commit_processed()

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
        topic_prefix: str = "",
    ) -> None:
        self.database = database
        self.inbox = inbox
        self.bootstrap_servers = bootstrap_servers
        self.group_id = group_id
        # A run with its own topics also gets its own consumer group: runs sharing a group would
        # rebalance each other (stalls, failed commits) although they never share a partition.
        self.kafka_group_id = topic_prefix + group_id
        self.topics = [topic_prefix + t.name for t in topics]
        self.handlers = {model.cloud_type(): handler for model, handler in handlers.items()}
        self.max_records = max_records
        self.consumed_total = 0
        self.lag: dict[str, int] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._processed: dict[TopicPartition, int] = {}

    async def run(self) -> None:
        """Consume forever, reconnecting after broker outages."""
        while True:
            consumer = AIOKafkaConsumer(
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
            except (KafkaError, OSError) as exc:
                logger.warning("consumer: kafka unavailable, reconnecting", extra={"error": repr(exc)})
                await asyncio.sleep(1)
            finally:
                self._consumer = None
                try:
                    await asyncio.wait_for(consumer.stop(), 10)
                except (KafkaError, OSError, TimeoutError):
                    logger.debug("consumer stop failed", exc_info=True)

    async def _poll_forever(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=self.max_records)
            for partition, records in batches.items():
                for record in records:
                    await self.process(record)
                    self._processed[partition] = record.offset + 1
                self._update_lag(consumer, partition)
            if batches:
                await self.commit_processed()

    async def commit_processed(self) -> None:
        """Commit the offsets of everything whose transaction has committed."""
        if self._consumer is None or not self._processed:
            return
        offsets, self._processed = self._processed, {}
        await self.before_commit(offsets)
        await self._consumer.commit(offsets)

    async def before_commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Extension point between the handler's transaction and the offset commit."""

    def _update_lag(self, consumer: AIOKafkaConsumer, partition: TopicPartition) -> None:
        highwater = consumer.highwater(partition)
        if highwater is not None and partition in self._processed:
            self.lag[f"{partition.topic}/{partition.partition}"] = max(
                0, highwater - self._processed[partition]
            )

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Apply one record at most once; a handler that keeps failing is parked in the inbox."""
        try:
            envelope = CloudEvent.from_kafka(record.headers, record.value or b"{}")
        except (KeyError, ValueError):
            logger.error(
                "dropping a record that is no CloudEvent",
                extra={"topic": record.topic, "offset": record.offset},
            )
            return
        handler = self.handlers.get(envelope.type)
        if handler is None:
            return
        with (
            correlated(envelope.extensions.get("correlationid") or envelope.subject),
            continued_span(f"consume {envelope.type}", envelope.extensions, SpanKind.CONSUMER),
        ):
            for attempt in range(1, MAX_HANDLER_ATTEMPTS + 1):
                try:
                    await self._apply(handler, envelope)
                    break
                except Exception as exc:
                    if attempt == MAX_HANDLER_ATTEMPTS:
                        logger.exception(
                            "event parked after failing handler",
                            extra={"event_id": envelope.id, "event_type": envelope.type},
                        )
                        await self._park(envelope, exc)
                        break
                    await asyncio.sleep(0.2 * 2**attempt)
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
