import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

sys.path.insert(0, str(Path(__file__).parent))  # the test kit module beside this file

from ozg_testing import (
    TestTokens,
    app_client,
    fresh_postgres_database,
    kafka_bootstrap,
    unique_topic_prefix,
)
from ozg_testing.suite_harness import directory_excerpt
from ozg_zufi.app import create_app
from ozg_zufi.settings import DATA_DIR, ZufiSettings


@pytest.fixture(scope="session")
def tokens() -> TestTokens:
    return TestTokens()


@pytest.fixture(scope="session")
async def settings(tmp_path_factory: pytest.TempPathFactory) -> ZufiSettings:
    return ZufiSettings(
        database_url=await fresh_postgres_database("test_zufi"),
        kafka_bootstrap_servers=kafka_bootstrap(),
        topic_prefix=unique_topic_prefix(),
        topic_partitions=3,
        var_dir=tmp_path_factory.mktemp("zufi-var"),
        seed_demo=True,
        rate_limit_per_second=10_000,
        rate_limit_burst=10_000,
        # Often, so the tests see what every refresh after a change leads to.
        index_refresh_interval=0.5,
    )


@pytest.fixture(scope="session")
async def client(settings: ZufiSettings, tokens: TestTokens) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    app.state.token_verifier = tokens.verifier()
    async with app_client(app) as http:
        yield http


@pytest.fixture(scope="session")
def admin(tokens: TestTokens) -> dict[str, str]:
    return tokens.headers("admin", subject="zufi-admin")


class EventLog:
    """Every event on zufi's topic since the test session began, read from Kafka."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def wait_for(
        self, event_type: str, matches: Callable[[dict[str, Any]], bool], within: float = 30
    ) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            for kind, data in self.events:
                if kind == "de.ozg-router." + event_type and matches(data):
                    return data
            await asyncio.sleep(0.1)
        raise AssertionError(f"no {event_type} event matched within {within}s")


@pytest.fixture(scope="session")
async def events(settings: ZufiSettings, client: httpx.AsyncClient) -> AsyncIterator[EventLog]:
    consumer = AIOKafkaConsumer(
        settings.topic_prefix + "zufi.events",
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    log = EventLog()

    async def consume() -> None:
        async for message in consumer:
            headers = {name: value.decode() for name, value in message.headers}
            log.events.append((headers["ce_type"], json.loads(message.value)))

    task = asyncio.create_task(consume())
    try:
        yield log
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await consumer.stop()


@pytest.fixture(scope="session")
async def sqlite_client(
    settings: ZufiSettings, tokens: TestTokens, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """zufi on SQLite (as `make run` starts it), with the same demo catalogue, seeded for
    Schleswig-Holstein's places only: these tests need none of the ~12k demo destinations of
    the whole country."""
    var_dir = tmp_path_factory.mktemp("zufi-sqlite")
    on_sqlite = ZufiSettings(
        database_url=f"sqlite+aiosqlite:///{var_dir / 'zufi.db'}",
        area_data_dir=directory_excerpt(DATA_DIR, var_dir / "areas", ["01"]),
        kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
        topic_prefix=settings.topic_prefix,
        topic_partitions=3,
        var_dir=var_dir,
        seed_demo=True,
        rate_limit_per_second=10_000,
        rate_limit_burst=10_000,
    )
    app = create_app(on_sqlite)
    app.state.token_verifier = tokens.verifier()
    async with app_client(app) as http:
        yield http
