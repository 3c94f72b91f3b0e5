"""A process that writes, relays or consumes test events, for the crash tests next door.

Run as `python messaging_worker.py MODE ...`; the `*-pause` modes stop at the dangerous moment
(published but not marked / applied but not committed) and wait there to be SIGKILLed.
"""

import argparse
import asyncio
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import TopicPartition
from sqlalchemy import Column, DateTime, MetaData, String, Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.consumer import EventConsumer
from ozg_common.db import Database, new_metadata
from ozg_common.events import CloudEvent, Event, Topic
from ozg_common.kafka import durable_producer, ensure_topics
from ozg_common.messaging import add_messaging_tables
from ozg_common.outbox import Outbox, OutboxRelay

LEDGER_TOPIC = Topic("ledger.events", "test events of the crash tests", partitions=3)

metadata: MetaData = new_metadata()
outbox_table, inbox_table = add_messaging_tables(metadata)
ledger = Table(
    "ledger",
    metadata,
    Column("event_id", String(36), nullable=False),
    Column("case_id", String(36), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)


class LedgerEntry(Event):
    """A test event: applying it appends one ledger row."""

    event_type = "test.ledger_entry"
    topic = LEDGER_TOPIC

    case_id: str

    def partition_key(self) -> str:
        return self.case_id


async def apply_entry(session: AsyncSession, event: LedgerEntry, envelope: CloudEvent) -> None:
    await session.execute(
        insert(ledger).values(event_id=envelope.id, case_id=event.case_id, applied_at=datetime.now(UTC))
    )


class PausingRelay(OutboxRelay):
    def __init__(self, marker: Path, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.marker = marker

    async def before_mark(self, row_ids: list[int]) -> None:
        self.marker.write_text(str(len(row_ids)))
        await asyncio.Event().wait()


class PausingConsumer(EventConsumer):
    def __init__(self, marker: Path, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.marker = marker

    async def before_commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        self.marker.write_text(str(sum(offsets.values())))
        await asyncio.Event().wait()


async def main(args: argparse.Namespace) -> None:
    database = Database(args.db_url)
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    marker = Path(args.marker) if args.marker else Path("/dev/null")
    if args.mode == "enqueue":
        outbox = Outbox(outbox_table, source="/tests/worker", topic_prefix=args.prefix)
        async with database.transaction() as session:
            for _ in range(args.count):
                await outbox.publish(session, LedgerEntry(case_id=str(uuid.uuid4())))
        return
    await ensure_topics(args.bootstrap, [LEDGER_TOPIC], prefix=args.prefix)
    if args.mode in {"relay", "relay-pause"}:
        relay_class = OutboxRelay if args.mode == "relay" else PausingRelay
        extra = {} if args.mode == "relay" else {"marker": marker}
        relay = relay_class(
            database=database,
            table=outbox_table,
            producer_factory=lambda: durable_producer(args.bootstrap, "crash-test"),
            **extra,
        )
        while await relay.relay_once():
            pass
        await relay.close()
        return
    consumer_class = EventConsumer if args.mode == "consume" else PausingConsumer
    options: dict[str, object] = {
        "database": database,
        "inbox": inbox_table,
        "bootstrap_servers": args.bootstrap,
        "group_id": args.group,
        "topics": [LEDGER_TOPIC],
        "handlers": {LedgerEntry: apply_entry},
        "topic_prefix": args.prefix,
    }
    if args.mode == "consume-pause":
        options["marker"] = marker
    consumer = consumer_class(**options)  # type: ignore[arg-type]
    await consumer.run()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["enqueue", "relay", "relay-pause", "consume", "consume-pause"])
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--group", default="crash-test")
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--marker")
    asyncio.run(main(parser.parse_args()))
