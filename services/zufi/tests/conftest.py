from collections.abc import AsyncIterator

import httpx
import pytest

from ozg_common.testing import (
    TestTokens,
    app_client,
    fresh_postgres_database,
    kafka_bootstrap,
    unique_topic_prefix,
)
from ozg_zufi.app import create_app
from ozg_zufi.settings import ZufiSettings


@pytest.fixture(scope="session")
def tokens() -> TestTokens:
    return TestTokens()


@pytest.fixture(scope="session")
async def settings() -> ZufiSettings:
    return ZufiSettings(
        database_url=await fresh_postgres_database("test_zufi"),
        kafka_bootstrap_servers=kafka_bootstrap(),
        topic_prefix=unique_topic_prefix(),
        topic_partitions=3,
    )


@pytest.fixture(scope="session")
async def client(settings: ZufiSettings, tokens: TestTokens) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    app.state.token_verifier = tokens.verifier()
    async with app_client(app) as http:
        yield http
