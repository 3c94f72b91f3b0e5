"""The gateway as its own process, killed with SIGKILL mid-delivery: nothing is lost."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Response
from kop_testkit import FAST, Arrival, Kafka, Receiver, destination_event, eventually, ready_event

from ozg_common.kafka import durable_producer
from ozg_testing import (
    ServiceProcess,
    TestTokens,
    free_port,
    fresh_postgres_database,
    kafka_bootstrap,
    serving,
    unique_topic_prefix,
)


@pytest.fixture
async def crash_receiver(tokens: TestTokens) -> AsyncIterator[Receiver]:
    """A receiver that also publishes the test issuer's JWKS, so the process can check admin tokens."""
    receiver = Receiver()
    app: FastAPI = receiver.app()

    @app.get("/jwks.json")
    async def jwks() -> dict[str, object]:
        return tokens.issuer.jwks()

    async with serving(app) as base_url:
        receiver.base_url = base_url
        yield receiver


async def test_killed_mid_delivery_then_restarted_delivers_everything(
    crash_receiver: Receiver, tokens: TestTokens
) -> None:
    prefix = unique_topic_prefix()
    port = free_port()
    env = {
        "OZG_KOP_GATEWAY_DATABASE_URL": await fresh_postgres_database("test_kop_gateway_2"),
        "OZG_KOP_GATEWAY_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap(),
        "OZG_KOP_GATEWAY_TOPIC_PREFIX": prefix,
        "OZG_KOP_GATEWAY_TOPIC_PARTITIONS": "3",
        "OZG_KOP_GATEWAY_PORT": str(port),
        "OZG_KOP_GATEWAY_JWKS_URL": f"{crash_receiver.base_url}/jwks.json",
        "OZG_KOP_GATEWAY_TOKEN_ISSUER": tokens.issuer.issuer,
        "OZG_KOP_GATEWAY_LOG_LEVEL": "WARNING",
    } | {f"OZG_KOP_GATEWAY_{name.upper()}": json.dumps(value) for name, value in FAST.items()}
    env |= {
        "OZG_KOP_GATEWAY_SIGNING_MASTER_SECRET": str(FAST["signing_master_secret"]),
        "OZG_KOP_GATEWAY_SECRET_ENCRYPTION_KEY": str(FAST["secret_encryption_key"]),
        "OZG_KOP_GATEWAY_REQUEST_TIMEOUT": "5",
        "OZG_KOP_GATEWAY_RETRY_HORIZON": "120",
    }
    gateway = ServiceProcess("ozg_kop_gateway", env, port=port)

    release = asyncio.Event()

    async def held_until_the_crash(_: Arrival) -> Response | None:
        await release.wait()
        return None

    destination_id = str(uuid.uuid4())
    crash_receiver.behaviours[destination_id] = held_until_the_crash
    producer = durable_producer(kafka_bootstrap(), "kop-gateway-crash-test")
    await gateway.start()
    await producer.start()
    try:
        kafka = Kafka(producer, prefix)
        await kafka.publish(destination_event(destination_id, crash_receiver.url(destination_id)))
        for _ in range(6):
            await kafka.publish(ready_event(destination_id))
        # Requests are in flight (the receiver holds them) when the process dies.
        await eventually(lambda: len(crash_receiver.of(destination_id)) >= 3, within=30)
        gateway.kill()
        release.set()
        in_flight = {a.delivery_id for a in crash_receiver.of(destination_id)}

        await gateway.start()
        admin = tokens.headers("admin")

        async def all_delivered() -> list[dict[str, object]] | None:
            async with httpx.AsyncClient(base_url=gateway.base_url) as http:
                answer = await http.get(
                    "/v1/admin/deliveries", params={"destinationId": destination_id}, headers=admin
                )
            rows: list[dict[str, object]] = answer.json()["deliveries"]
            return rows if len(rows) == 6 and all(r["state"] == "succeeded" for r in rows) else None

        rows = await eventually(all_delivered, within=40, every=0.3)
        assert sorted(crash_receiver.delivered[destination_id]) == sorted(str(r["id"]) for r in rows)
        # The attempts cut off by the crash were made again, under the same delivery id.
        for delivery_id in in_flight:
            assert len([a for a in crash_receiver.of(destination_id) if a.delivery_id == delivery_id]) >= 2
    finally:
        release.set()
        gateway.stop()
        await producer.stop()
