"""A poll's events are applied in one transaction; a poisoned one is parked, the others applied once.

Real Kafka delivers the records; the storage runs on PostgreSQL and on SQLite.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupCoordinatorNotAvailableError
from aiokafka.structs import ConsumerRecord
from messaging_worker import LEDGER_TOPIC, LedgerEntry
from sqlalchemy import Column, Integer, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.consumer import MAX_HANDLER_ATTEMPTS, EventConsumer, PoisonEvent
from ozg_common.db import Database, new_metadata
from ozg_common.events import CloudEvent, Event
from ozg_common.kafka import durable_producer, ensure_topics
from ozg_common.messaging import add_messaging_tables
from ozg_testing import fresh_database, kafka_bootstrap, unique_topic_prefix

POISON = "poison"
FORGED = "forged"

metadata = new_metadata()
_, inbox = add_messaging_tables(metadata)
applied = Table(
    "applied",
    metadata,
    Column("event_id", String(36), nullable=False),
    Column("case_id", String(36), nullable=False),
    Column("earlier", Integer, nullable=False),
)


class Unrelated(Event):
    """An event on the same topic that the consumer under test has no handler for."""

    event_type = "test.batch_unrelated"
    topic = LEDGER_TOPIC

    def partition_key(self) -> str:
        return "unrelated"


class Store:
    """The database under test, the commits it has seen and the handler's runs."""

    def __init__(self, database: Database, prefix: str) -> None:
        self.database = database
        self.prefix = prefix
        self.commits = 0
        self.runs: dict[str, int] = {}
        database.on_commit(self._count_commit)

    def _count_commit(self) -> None:
        self.commits += 1

    async def apply_entry(self, session: AsyncSession, event: LedgerEntry, envelope: CloudEvent) -> None:
        """Records how many events of the same case it already sees in its transaction."""
        self.runs[envelope.id] = self.runs.get(envelope.id, 0) + 1
        if event.case_id == POISON:
            raise RuntimeError("poisoned event")
        if event.case_id == FORGED:
            raise PoisonEvent("a forgery")
        earlier = await session.scalar(
            select(func.count()).select_from(applied).where(applied.c.case_id == event.case_id)
        )
        await session.execute(
            insert(applied).values(event_id=envelope.id, case_id=event.case_id, earlier=earlier)
        )

    def consumer(self, group_id: str) -> EventConsumer:
        return EventConsumer(
            database=self.database,
            inbox=inbox,
            bootstrap_servers=kafka_bootstrap(),
            group_id=group_id,
            topics=[LEDGER_TOPIC],
            handlers={LedgerEntry: self.apply_entry},
            topic_prefix=self.prefix,
        )

    async def rows(self, sql: Any) -> list[Any]:
        async with self.database.sessionmaker() as session:
            return list((await session.execute(sql)).all())


@pytest.fixture(params=["postgresql", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    database = await fresh_database(request.param, "test_common_batches", tmp_path, metadata)
    prefix = unique_topic_prefix()
    await ensure_topics(kafka_bootstrap(), [LEDGER_TOPIC], prefix=prefix)
    yield Store(database, prefix)
    await database.dispose()


def entries(*case_ids: str) -> list[CloudEvent]:
    return [CloudEvent.wrap(LedgerEntry(case_id=case_id), source="/tests/batches") for case_id in case_ids]


async def produce(prefix: str, envelopes: Sequence[CloudEvent | bytes], *, partition: int | None = 0) -> None:
    """Send in order (to one partition unless told otherwise); raw bytes go without CloudEvent headers."""
    producer = durable_producer(kafka_bootstrap(), "batch-test")
    await producer.start()
    try:
        sent = []
        for item in envelopes:
            if isinstance(item, bytes):
                value, headers, key = item, [], b"raw"
            else:
                value, headers, key = item.kafka_value(), item.kafka_headers(), item.id.encode()
            sent.append(
                await producer.send(
                    prefix + LEDGER_TOPIC.name, value=value, key=key, headers=headers, partition=partition
                )
            )
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def fetch(prefix: str, count: int) -> list[ConsumerRecord[bytes, bytes]]:
    """The records as a consumer polls them from the broker (no group, nothing committed)."""
    consumer = AIOKafkaConsumer(
        prefix + LEDGER_TOPIC.name, bootstrap_servers=kafka_bootstrap(), auto_offset_reset="earliest"
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        deadline = time.monotonic() + 30
        while len(records) < count:
            assert time.monotonic() < deadline, "the records did not arrive"
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def test_a_poll_is_applied_in_one_transaction_and_a_redelivery_changes_nothing(store: Store) -> None:
    single = entries(*(f"case-{i}" for i in range(120)))
    shared = entries("shared", "shared")
    unrelated = CloudEvent.wrap(Unrelated(), source="/tests/batches")
    poll = [*single[:60], shared[0], b"no cloudevent", unrelated, *single[60:], single[7], shared[1]]
    await produce(store.prefix, poll)
    records = await fetch(store.prefix, len(poll))
    consumer = store.consumer("batches")

    await consumer.apply(records)

    assert store.commits == 1
    rows = await store.rows(select(applied.c.event_id, applied.c.case_id, applied.c.earlier))
    assert sorted(event_id for event_id, _, _ in rows) == sorted(e.id for e in [*single, *shared])
    # The second event of a case sees the first one's effect, although neither has committed yet.
    assert sorted(earlier for _, case_id, earlier in rows if case_id == "shared") == [0, 1]
    assert all(count == 1 for count in store.runs.values())
    outcomes = await store.rows(select(inbox.c.outcome, func.count()).group_by(inbox.c.outcome))
    assert outcomes == [("done", len(single) + len(shared))]
    assert consumer.consumed_total == len(single) + len(shared) + 1  # the repeat of single[7] too

    await consumer.apply(records)

    assert store.commits == 2
    assert len(await store.rows(select(applied.c.event_id))) == len(single) + len(shared)
    assert all(count == 1 for count in store.runs.values()), "a redelivered event ran its handler again"


# The parking waits out the retries' back-off (6 s): once, on PostgreSQL, is enough.
@pytest.mark.parametrize("store", ["postgresql"], indirect=True)
async def test_a_poisoned_event_is_parked_and_the_others_applied_once(store: Store) -> None:
    good = entries(*(f"case-{i}" for i in range(40)))
    (poisoned,) = entries(POISON)
    await produce(store.prefix, [*good[:20], poisoned, *good[20:]])
    records = await fetch(store.prefix, len(good) + 1)

    await store.consumer("poisoned").apply(records)

    rows = await store.rows(select(applied.c.event_id))
    assert sorted(event_id for (event_id,) in rows) == sorted(e.id for e in good)
    parked = await store.rows(select(inbox.c.outcome, inbox.c.error).where(inbox.c.event_id == poisoned.id))
    assert len(parked) == 1
    assert parked[0].outcome == "failed"
    assert "poisoned event" in parked[0].error
    assert store.runs[poisoned.id] == MAX_HANDLER_ATTEMPTS
    # The twenty before it ran twice (rolled back with it once), the twenty after it once.
    assert all(store.runs[e.id] == 2 for e in good[:20])
    assert all(store.runs[e.id] == 1 for e in good[20:])
    # The events before it, its parking, the events after it.
    assert store.commits == 3


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)
async def test_an_event_its_handler_calls_poison_is_parked_at_once(store: Store) -> None:
    good = entries(*(f"case-{i}" for i in range(10)))
    (forged,) = entries(FORGED)
    await produce(store.prefix, [*good[:5], forged, *good[5:]])
    records = await fetch(store.prefix, len(good) + 1)

    started = time.monotonic()
    await store.consumer("forged").apply(records)

    assert time.monotonic() - started < 2, "no retries with back-off"
    rows = await store.rows(select(applied.c.event_id))
    assert sorted(event_id for (event_id,) in rows) == sorted(e.id for e in good)
    parked = await store.rows(select(inbox.c.outcome, inbox.c.error).where(inbox.c.event_id == forged.id))
    assert [(row.outcome, "a forgery" in row.error) for row in parked] == [("failed", True)]
    assert store.runs[forged.id] == 1, "its handler is not run again"


async def committed_offsets(group_id: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group_id)
    except GroupCoordinatorNotAvailableError:
        return 0  # a fresh broker is still creating __consumer_offsets: nothing committed yet
    finally:
        await admin.close()
    return sum(meta.offset for meta in offsets.values())


async def test_the_consumer_commits_offsets_once_the_batch_has_committed(store: Store) -> None:
    events = entries(*(f"case-{i}" for i in range(150)))
    await produce(store.prefix, events, partition=None)
    consumer = store.consumer("running")
    task = asyncio.create_task(consumer.run())
    try:
        deadline = time.monotonic() + 60
        while await committed_offsets(consumer.kafka_group_id) < len(events):
            assert time.monotonic() < deadline, "the consumer did not commit every offset"
            await asyncio.sleep(0.2)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert len(await store.rows(select(applied.c.event_id))) == len(events)
    assert consumer.consumed_total == len(events)
    assert sum(consumer.lag.values()) == 0
    assert store.commits <= len(events) // 10, "one commit per poll, not per event"
