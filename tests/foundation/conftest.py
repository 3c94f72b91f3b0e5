import atexit
import functools
import importlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ozg_testing import (
    TestTokens,
    app_client,
    fresh_postgres_database,
    kafka_bootstrap,
    unique_topic_prefix,
)
from ozg_testing.suite_harness import directory_excerpt
from ozg_zufi.settings import DATA_DIR

SERVICES = ["zufi", "submission", "kop_gateway", "payment", "mailbox"]


@functools.cache
def zufi_areas() -> Path:
    """zufi's area data for Schleswig-Holstein only: these tests look up no place, and every zufi app
    here would otherwise seed ~12k demo destinations, one per Gemeinde, at start-up."""
    directory = Path(tempfile.mkdtemp(prefix="zufi-areas-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory_excerpt(DATA_DIR, directory, ["01"])


async def build_app(service: str, tokens: TestTokens, **settings_overrides: Any) -> FastAPI:
    """The service's real app on its own fresh PostgreSQL database and real Kafka (settings as given)."""
    if service == "zufi":
        settings_overrides = {"area_data_dir": zufi_areas(), **settings_overrides}
    app_module = importlib.import_module(f"ozg_{service}.app")
    settings_module = importlib.import_module(f"ozg_{service}.settings")
    settings_class = next(
        value
        for name, value in vars(settings_module).items()
        if name.endswith("Settings") and name != "ServiceSettings" and isinstance(value, type)
    )
    settings = settings_class(
        database_url=await fresh_postgres_database(f"test_basics_{service}"),
        kafka_bootstrap_servers=kafka_bootstrap(),
        topic_prefix=unique_topic_prefix(),
        topic_partitions=1,
    ).model_copy(update=settings_overrides)
    app: FastAPI = app_module.create_app(settings)
    app.state.token_verifier = tokens.verifier()
    return app


@pytest.fixture(scope="module")
def tokens() -> TestTokens:
    return TestTokens()


@pytest.fixture(params=SERVICES, scope="module")
async def service_client(
    request: pytest.FixtureRequest, tokens: TestTokens
) -> AsyncIterator[httpx.AsyncClient]:
    app = await build_app(request.param, tokens)
    async with app_client(app) as client:
        yield client
