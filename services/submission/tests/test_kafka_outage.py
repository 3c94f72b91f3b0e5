"""Intake while Kafka cannot take writes: refused with 503 and Retry-After, open again by itself."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from submission_testkit import Bus, FakeZufi, Keys, Suite, clients_file, destination_events
from test_applications import application

from ozg_submission.app import create_app
from ozg_submission.settings import SubmissionSettings
from ozg_testing import (
    TcpLink,
    free_port,
    fresh_postgres_database,
    kafka_bootstrap,
    serving,
    unique_topic_prefix,
)


async def _until(ask: Callable[[], Awaitable[httpx.Response]], status: int, within: float) -> httpx.Response:
    """Ask until the answer has `status`, for at most `within` seconds; the last answer."""
    deadline = time.monotonic() + within
    while True:
        answer = await ask()
        if answer.status_code == status or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.2)


async def test_intake_is_refused_with_retry_after_while_kafka_is_unreachable_then_accepted(
    keys: Keys, tmp_path: Path
) -> None:
    # A service of its own, reaching the shared broker through a link that starts cut.
    prefix = unique_topic_prefix()
    host, _, port = kafka_bootstrap().split(",")[0].rpartition(":")
    link = TcpLink(host, int(port))
    zufi = FakeZufi(keys.zufi, prefix)
    bus = Bus(kafka_bootstrap(), prefix)
    async with serving(zufi.app()) as zufi_url:
        zufi.base_url = zufi_url  # type: ignore[attr-defined]
        settings = SubmissionSettings(
            database_url=await fresh_postgres_database("test_submission_kafka_outage"),
            kafka_bootstrap_servers=f"127.0.0.1:{link.port}",
            kafka_watch_interval=0.5,
            topic_prefix=prefix,
            topic_partitions=3,
            var_dir=tmp_path,
            port=free_port(),
            zufi_url=zufi_url,
            bootstrap_clients_file=tmp_path / "clients.json",
            outbox_poll_interval=0.1,
        )
        secrets = clients_file(tmp_path / "clients.json", prefix)
        try:
            async with (
                serving(create_app(settings), settings.port) as base_url,
                httpx.AsyncClient(base_url=base_url, timeout=30) as http,
            ):
                suite = Suite(http, bus, zufi, keys, secrets, prefix)
                sender = await suite.auth("sender")

                async def intake() -> httpx.Response:
                    return await http.post("/v1/applications", json=application(), headers=sender)

                async def readiness() -> httpx.Response:
                    return await http.get("/readyz")

                refused = await _until(intake, 503, within=10)
                unready = await readiness()

                await link.connect()
                ready = await _until(readiness, 200, within=60)
                await bus.start()
                await bus.publish(*destination_events(keys, prefix))
                await suite.wait_for_destination(suite.dest_a)
                accepted = await _until(intake, 201, within=30)
        finally:
            await bus.stop()
            await link.cut()

    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["type"].endswith("/events-unavailable")
    assert f"no Kafka broker reachable at 127.0.0.1:{link.port}" in refused.json()["detail"]
    assert unready.status_code == 503
    assert unready.json()["checks"]["kafka"] == f"no Kafka broker reachable at 127.0.0.1:{link.port}"
    assert ready.status_code == 200, ready.text
    assert accepted.status_code == 201, accepted.text
