"""The outbox relay on a thread of its own: what the service's loop commits reaches Kafka promptly,
woken by the commits, and the thread ends when the service stops the relay."""

import asyncio
import threading
import time
import uuid

import messaging_worker as worker
import pytest
from aiokafka import AIOKafkaConsumer
from lost_cancellation import ignores_cancellation, loses_first_cancellation

from ozg_common.db import Database
from ozg_common.kafka import durable_producer, ensure_topics
from ozg_common.outbox import Outbox, OutboxRelay
from ozg_testing import fresh_postgres_database, kafka_bootstrap, unique_topic_prefix

EVENTS = 30


async def test_a_relay_thread_publishes_what_the_service_commits_and_stops_with_it() -> None:
    database = Database(await fresh_postgres_database("test_common_relay_thread"))
    async with database.engine.begin() as connection:
        await connection.run_sync(worker.metadata.create_all)
    prefix = unique_topic_prefix()
    await ensure_topics(kafka_bootstrap(), [worker.LEDGER_TOPIC], prefix=prefix)
    outbox = Outbox(worker.outbox_table, source="/tests/relay-thread", topic_prefix=prefix)
    # A long poll interval: only the commits' wake-ups can make the events leave this quickly.
    relay = OutboxRelay(
        database,
        worker.outbox_table,
        lambda: durable_producer(kafka_bootstrap(), "relay-thread"),
        poll_interval=60,
    )
    consumer = AIOKafkaConsumer(
        prefix + worker.LEDGER_TOPIC.name, bootstrap_servers=kafka_bootstrap(), auto_offset_reset="earliest"
    )
    await consumer.start()
    # Other tests' services (session fixtures) may have relay threads of their own running.
    others = set(threading.enumerate())
    running = asyncio.create_task(relay.run_in_thread())
    try:
        deadline = time.monotonic() + 30
        committed_at: dict[str, float] = {}
        for _ in range(EVENTS):
            async with database.transaction() as session:
                envelope = await outbox.publish(session, worker.LedgerEntry(case_id=str(uuid.uuid4())))
            committed_at[envelope.id] = time.monotonic()
        received: dict[str, float] = {}
        while len(received) < EVENTS:
            assert time.monotonic() < deadline, f"only {len(received)} of {EVENTS} events arrived"
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    event_id = dict(record.headers)["ce_id"].decode()
                    received.setdefault(event_id, time.monotonic())
        assert received.keys() == committed_at.keys()
        slowest = max(received[event_id] - committed_at[event_id] for event_id in received)
        assert slowest < 5, f"an event needed {slowest:.1f} s from its commit to Kafka"
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await consumer.stop()
        await database.dispose()
    mine = [t for t in threading.enumerate() if t.name == "outbox-relay" and t not in others]
    assert not mine, "the relay thread still runs"


async def test_a_relay_thread_that_ends_by_itself_is_reported_for_a_restart() -> None:
    class Quitting(OutboxRelay):
        async def run(self) -> None:
            return

    database = Database(await fresh_postgres_database("test_common_relay_thread"))
    relay = Quitting(database, worker.outbox_table, lambda: durable_producer(kafka_bootstrap(), "quits"))
    try:
        with pytest.raises(RuntimeError, match="ended by itself"):
            await relay.run_in_thread()
    finally:
        await database.dispose()


RELEASE = threading.Event()
"""Lets the stuck relays below end once their test is over."""


class Stubborn(OutboxRelay):
    async def run(self) -> None:
        # Blocks its loop, as a relay stuck in a call that ignores cancellation would.
        RELEASE.wait()


class Deaf(OutboxRelay):
    async def run(self) -> None:
        await ignores_cancellation(RELEASE.is_set)


class LosesItsFirstCancellation(OutboxRelay):
    async def run(self) -> None:
        await loses_first_cancellation()


async def _stop(relay: OutboxRelay) -> None:
    """Starts the relay's thread and stops it (within 5 s), as a service's shutdown does."""
    relay.stop_timeout = 0.5
    running = asyncio.create_task(relay.run_in_thread())
    await asyncio.sleep(0.3)
    running.cancel()
    began = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert time.monotonic() - began < 5


async def _stopped_while_stuck(kind: type[OutboxRelay], caplog: pytest.LogCaptureFixture) -> str:
    """Cancels a relay thread that will not stop; returns where its log says it hung."""
    RELEASE.clear()
    database = Database(await fresh_postgres_database("test_common_relay_thread"))
    relay = kind(database, worker.outbox_table, lambda: durable_producer(kafka_bootstrap(), "stuck"))
    try:
        await _stop(relay)
        [stuck] = [r for r in caplog.records if "did not stop in time" in r.getMessage()]
        # Restarted meanwhile, a second thread would share the first one's connections.
        with pytest.raises(RuntimeError, match="previous thread still runs"):
            await relay.run_in_thread()
        return str(stuck.where)
    finally:
        RELEASE.set()
        await database.dispose()


async def test_a_relay_thread_that_lost_its_cancellation_is_cancelled_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = Database(await fresh_postgres_database("test_common_relay_thread"))
    relay = LosesItsFirstCancellation(
        database, worker.outbox_table, lambda: durable_producer(kafka_bootstrap(), "lost")
    )
    try:
        await _stop(relay)
        assert not [r for r in caplog.records if "did not stop" in r.getMessage()]
    finally:
        await database.dispose()


async def test_a_relay_thread_that_does_not_stop_does_not_hold_up_the_shutdown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    where = await _stopped_while_stuck(Stubborn, caplog)
    # Where it hangs is logged: here the blocking call, its loop running nothing.
    assert "RELEASE.wait()" in where
    assert "its loop runs no callbacks" in where


async def test_a_relay_that_ignores_its_cancellation_is_logged_with_its_tasks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    where = await _stopped_while_stuck(Deaf, caplog)
    assert "in run" in where.split("tasks:", 1)[1]
