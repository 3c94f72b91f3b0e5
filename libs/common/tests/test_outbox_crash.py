"""Outbox → Kafka → consumer across processes, with SIGKILLs at the two dangerous moments.

Runs on PostgreSQL and on SQLite (the storage part); Kafka is always the real broker.
"""

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import func, select, text

from ozg_common.db import Database
from ozg_testing import fresh_postgres_database, kafka_bootstrap, unique_topic_prefix

WORKER = Path(__file__).with_name("messaging_worker.py")
EVENTS = 50


class Worker:
    """The messaging worker as a separate OS process."""

    def __init__(self, db_url: str, prefix: str, tmp_path: Path) -> None:
        self.base = ["--db-url", db_url, "--bootstrap", kafka_bootstrap(), "--prefix", prefix]
        self.tmp_path = tmp_path
        self.running: list[subprocess.Popen[bytes]] = []

    def run(self, mode: str, *args: str) -> None:
        subprocess.run([sys.executable, str(WORKER), mode, *self.base, *args], check=True, timeout=120)

    def start(self, mode: str, *args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([sys.executable, str(WORKER), mode, *self.base, *args])
        self.running.append(process)
        return process

    async def start_paused(self, mode: str, *args: str) -> subprocess.Popen[bytes]:
        """Start a `*-pause` worker and wait until it sits at the dangerous moment."""
        marker = self.tmp_path / f"{mode}-{uuid.uuid4().hex}.marker"
        process = self.start(mode, "--marker", str(marker), *args)
        deadline = time.monotonic() + 90
        while not marker.exists():
            assert process.poll() is None, f"{mode} worker exited early"
            assert time.monotonic() < deadline, f"{mode} worker never reached its pause"
            await asyncio.sleep(0.1)
        return process

    def kill_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.kill()
            process.wait()


@pytest.fixture(params=["postgresql", "sqlite"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'crash.sqlite3'}"
    return await fresh_postgres_database("test_common_crash")


@pytest.fixture
def worker(database_url: str, tmp_path: Path) -> Iterator[Worker]:
    worker = Worker(database_url, unique_topic_prefix(), tmp_path)
    yield worker
    worker.kill_all()


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


async def scalar(database: Database, sql: str) -> int:
    async with database.sessionmaker() as session:
        return int(await session.scalar(text(sql)) or 0)


async def wait_for_ledger(database: Database, expected: int) -> None:
    deadline = time.monotonic() + 90
    while await scalar(database, "SELECT count(DISTINCT event_id) FROM ledger") < expected:
        assert time.monotonic() < deadline, "the consumer did not apply every event"
        await asyncio.sleep(0.2)
    # Let any duplicate that is still on its way arrive before we count.
    await asyncio.sleep(2)


async def messages_on_topic(topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        (description,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = [TopicPartition(topic, p["partition"]) for p in description["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap())
    await consumer.start()
    consumer.assign(partitions)
    try:
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


async def test_relay_killed_between_publish_and_mark_loses_nothing(
    worker: Worker, database: Database
) -> None:
    worker.run("enqueue", "--count", str(EVENTS))

    relay = await worker.start_paused("relay-pause")
    relay.kill()
    relay.wait()
    unmarked = await scalar(database, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
    assert unmarked == EVENTS, "the killed relay must not have marked anything"

    worker.run("relay")
    assert await scalar(database, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0

    worker.start("consume", "--group", "ledger-once")
    await wait_for_ledger(database, EVENTS)

    assert await scalar(database, "SELECT count(*) FROM ledger") == EVENTS, "an event applied twice"
    topic = worker.base[worker.base.index("--prefix") + 1] + "ledger.events"
    assert await messages_on_topic(topic) == 2 * EVENTS, "the restarted relay re-published the batch"


async def test_consumer_killed_before_commit_has_no_second_effect(worker: Worker, database: Database) -> None:
    worker.run("enqueue", "--count", str(EVENTS))
    worker.run("relay")

    consumer = await worker.start_paused("consume-pause", "--group", "ledger-redelivery")
    consumer.kill()
    consumer.wait()
    applied_before_crash = await scalar(database, "SELECT count(*) FROM ledger")
    assert applied_before_crash > 0, "the first consumer applied events before its crash"

    worker.start("consume", "--group", "ledger-redelivery")
    await wait_for_ledger(database, EVENTS)

    async with database.sessionmaker() as session:
        per_event = (
            await session.execute(text("SELECT event_id, count(*) FROM ledger GROUP BY event_id"))
        ).all()
        inbox_rows = await session.scalar(select(func.count()).select_from(text("inbox")))
    assert len(per_event) == EVENTS
    assert all(count == 1 for _, count in per_event), "a redelivered event had a second effect"
    assert inbox_rows == EVENTS
