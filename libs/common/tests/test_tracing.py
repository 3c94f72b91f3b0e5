"""A trace started by an HTTP caller continues through the outbox, Kafka and a consumer."""

import asyncio
import contextlib
import uuid
from typing import Any

import httpx
import messaging_worker as worker
from fastapi import FastAPI
from opentelemetry.trace import SpanKind

from ozg_common.consumer import EventConsumer
from ozg_common.db import Database
from ozg_common.events import CloudEvent
from ozg_common.kafka import durable_producer, ensure_topics
from ozg_common.outbox import Outbox, OutboxRelay
from ozg_common.tracing import TracingMiddleware, continued_span, current_trace_id, current_traceparent
from ozg_testing import fresh_postgres_database, kafka_bootstrap, unique_topic_prefix

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"


async def test_trace_context_travels_in_kafka_headers() -> None:
    database = Database(await fresh_postgres_database("test_common_tracing"))
    async with database.engine.begin() as connection:
        await connection.run_sync(worker.metadata.create_all)
    prefix = unique_topic_prefix()
    await ensure_topics(kafka_bootstrap(), [worker.LEDGER_TOPIC], prefix=prefix)
    outbox = Outbox(worker.outbox_table, source="/tests/tracing", topic_prefix=prefix)

    with continued_span("POST /v1/applications", {"traceparent": TRACEPARENT}, SpanKind.SERVER):
        async with database.transaction() as session:
            await outbox.publish(session, worker.LedgerEntry(case_id=str(uuid.uuid4())))

    relay = OutboxRelay(database, worker.outbox_table, lambda: durable_producer(kafka_bootstrap(), "t"))
    assert await relay.relay_once() == 1
    await relay.close()

    seen: asyncio.Queue[tuple[str | None, str | None]] = asyncio.Queue()

    async def handler(session: Any, event: Any, envelope: CloudEvent) -> None:
        await seen.put((envelope.extensions.get("traceparent"), current_trace_id()))

    consumer = EventConsumer(
        database=database,
        inbox=worker.inbox_table,
        bootstrap_servers=kafka_bootstrap(),
        group_id="tracing",
        topics=[worker.LEDGER_TOPIC],
        handlers={worker.LedgerEntry: handler},
        topic_prefix=prefix,
    )
    task = asyncio.create_task(consumer.run())
    try:
        header, trace_id_in_handler = await asyncio.wait_for(seen.get(), 60)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await database.dispose()
    assert header is not None
    assert TRACE_ID in header
    assert trace_id_in_handler == TRACE_ID


async def test_with_tracing_off_a_callers_trace_context_is_still_passed_on() -> None:
    app = FastAPI()

    @app.get("/context")
    async def context_here() -> dict[str, str | None]:
        return {"traceparent": current_traceparent()}

    app.add_middleware(TracingMiddleware, recording=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        traced = await client.get("/context", headers={"traceparent": TRACEPARENT})
        untraced = await client.get("/context")
    assert TRACE_ID in traced.json()["traceparent"]
    assert untraced.json()["traceparent"] is None
