"""Broker faults on a three-broker cluster (replication factor 3, min.insync.replicas 2): the leader of
a partition is SIGKILLed while the outbox relay publishes, and every event still has exactly one
effect at the consumer; /readyz's Kafka check names the dead broker and clears once it is back."""

import asyncio
import time
import uuid
from collections.abc import Iterator

import messaging_worker as worker
import pytest
from sqlalchemy import text

from ozg_common.consumer import EventConsumer
from ozg_common.db import Database
from ozg_common.kafka import cluster_problem, durable_producer, ensure_topics
from ozg_common.outbox import Outbox, OutboxRelay
from ozg_testing import KafkaCluster, fresh_postgres_database, kafka_cluster, unique_topic_prefix

EVENTS = 1500
WAVE = 25
"""Events per commit, one commit every WAVE_GAP seconds: the relay publishes before, during and
after the kill."""
WAVE_GAP = 0.05


@pytest.fixture(scope="module")
def cluster() -> Iterator[KafkaCluster]:
    with kafka_cluster() as running:
        yield running


async def counts(database: Database) -> tuple[int, int]:
    """Ledger rows, and distinct events among them."""
    async with database.sessionmaker() as session:
        row = (await session.execute(text("SELECT count(*), count(DISTINCT event_id) FROM ledger"))).one()
    return int(row[0]), int(row[1])


async def test_sigkilled_partition_leader_loses_and_repeats_no_effect(cluster: KafkaCluster) -> None:
    database = Database(await fresh_postgres_database("test_common_broker_fault"))
    async with database.engine.begin() as connection:
        await connection.run_sync(worker.metadata.create_all)
    prefix = unique_topic_prefix()
    topic = prefix + worker.LEDGER_TOPIC.name
    await ensure_topics(cluster.bootstrap, [worker.LEDGER_TOPIC], prefix=prefix)
    expected = {topic: worker.LEDGER_TOPIC.partitions}
    assert await cluster_problem(cluster.bootstrap, expected) is None

    outbox = Outbox(worker.outbox_table, source="/tests/broker-fault", topic_prefix=prefix)
    relay = OutboxRelay(
        database,
        worker.outbox_table,
        lambda: durable_producer(cluster.bootstrap, "broker-fault"),
        poll_interval=0.2,
    )
    consumer = EventConsumer(
        database=database,
        inbox=worker.inbox_table,
        bootstrap_servers=cluster.bootstrap,
        group_id="broker-fault",
        topics=[worker.LEDGER_TOPIC],
        handlers={worker.LedgerEntry: worker.apply_entry},
        topic_prefix=prefix,
    )
    committed: set[str] = set()

    async def write() -> None:
        for _ in range(EVENTS // WAVE):
            async with database.transaction() as session:
                for _ in range(WAVE):
                    envelope = await outbox.publish(session, worker.LedgerEntry(case_id=str(uuid.uuid4())))
                    committed.add(envelope.id)
            await asyncio.sleep(WAVE_GAP)

    tasks = [
        asyncio.create_task(relay.run_in_thread()),
        asyncio.create_task(consumer.run()),
        asyncio.create_task(write()),
    ]
    victim = 0
    try:
        deadline = time.monotonic() + 60
        while relay.published_total < EVENTS // 4:
            assert time.monotonic() < deadline, "the relay published nothing before the fault"
            await asyncio.sleep(0.05)
        victim = await cluster.leader(topic, 0)
        await cluster.kill(victim)
        published_at_kill = relay.published_total

        # The controller fences the dead broker after its session timeout; then a replica in sync leads.
        deadline = time.monotonic() + 30
        while await cluster.leader(topic, 0) in {victim, -1}:
            assert time.monotonic() < deadline, "no other replica took over the partition"
            await asyncio.sleep(0.5)
        problem = await cluster_problem(cluster.bootstrap, expected)
        assert problem == f"broker {cluster.broker_address(victim)} unreachable (2 of 3 up)"

        await tasks[2]
        deadline = time.monotonic() + 90
        while (await counts(database))[1] < EVENTS:
            assert time.monotonic() < deadline, (
                f"only {(await counts(database))[1]} of {EVENTS} events applied"
            )
            await asyncio.sleep(0.2)
        assert relay.published_total > published_at_kill, "the relay published nothing after the kill"
        # A repeat still on its way would arrive within the consumer's next polls.
        await asyncio.sleep(2)
        rows, distinct = await counts(database)
        assert (rows, distinct) == (EVENTS, EVENTS), "an event lost or applied twice"
        async with database.sessionmaker() as session:
            applied = set((await session.scalars(text("SELECT event_id FROM ledger"))).all())
        assert applied == committed

        await cluster.start(victim)
        victim = 0
        assert await cluster_problem(cluster.bootstrap, expected) is None, "readiness did not recover"
    finally:
        if victim:
            await cluster.start(victim)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await database.dispose()
