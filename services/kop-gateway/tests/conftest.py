"""Fixtures: the gateway on a real PostgreSQL and Kafka, and a real HTTP receiver."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the test kit module beside this file

from kop_testkit import FAST, Kafka, Receiver, Suite

from ozg_common.kafka import durable_producer
from ozg_kop_gateway.app import create_app
from ozg_kop_gateway.settings import KopGatewaySettings
from ozg_testing import (
    TestTokens,
    app_client,
    fresh_postgres_database,
    kafka_bootstrap,
    serving,
    unique_topic_prefix,
)


@pytest.fixture(scope="session")
def tokens() -> TestTokens:
    return TestTokens()


@pytest.fixture(scope="session")
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    async with serving(receiver.app()) as base_url:
        receiver.base_url = base_url
        yield receiver


@pytest.fixture(scope="session")
async def settings() -> KopGatewaySettings:
    return KopGatewaySettings(
        database_url=await fresh_postgres_database("test_kop_gateway"),
        kafka_bootstrap_servers=kafka_bootstrap(),
        topic_prefix=unique_topic_prefix(),
        topic_partitions=3,
        **FAST,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
async def suite(settings: KopGatewaySettings, tokens: TestTokens, receiver: Receiver) -> AsyncIterator[Suite]:
    app = create_app(settings)
    app.state.token_verifier = tokens.verifier()
    producer = durable_producer(kafka_bootstrap(), "kop-gateway-tests")
    await producer.start()
    try:
        async with app_client(app) as http:
            yield Suite(http, Kafka(producer, settings.topic_prefix), receiver, tokens, settings, app)
    finally:
        await producer.stop()
