"""Kafka over TLS with SCRAM logins, on a broker of the tests' own (the shared broker stays plain):
events travel outbox → Kafka → consumer over SASL_SSL and a service is ready on it; a wrong password
or a broker certificate the service does not trust keeps /readyz at 503 saying which, and no secret
reaches a log line."""

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import messaging_worker as worker
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.consumer import EventConsumer
from ozg_common.db import Database
from ozg_common.events import CloudEvent
from ozg_common.kafka import durable_producer, ensure_topics
from ozg_common.outbox import Outbox, OutboxRelay
from ozg_testing import (
    SecuredKafka,
    TestTokens,
    app_client,
    fresh_postgres_database,
    secured_kafka,
    unique_topic_prefix,
)

from .conftest import build_app
from .test_readiness import kafka_problem, wait_for_status

WRONG_PASSWORD = "wrong-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def broker() -> Iterator[SecuredKafka]:
    with secured_kafka() as running:
        yield running


async def ledger_rows(database: Database) -> int:
    async with database.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(worker.ledger))).scalar_one())


async def test_events_travel_outbox_kafka_consumer_over_sasl_ssl(broker: SecuredKafka) -> None:
    security = broker.security()
    database = Database(await fresh_postgres_database("test_kafka_sasl_ssl"))
    async with database.engine.begin() as connection:
        await connection.run_sync(worker.metadata.create_all)
    prefix = unique_topic_prefix()
    await ensure_topics(broker.bootstrap, [worker.LEDGER_TOPIC], prefix=prefix, security=security)
    outbox = Outbox(worker.outbox_table, source="/tests/kafka-security", topic_prefix=prefix)
    async with database.transaction() as session:
        for _ in range(3):
            await outbox.publish(session, worker.LedgerEntry(case_id=str(uuid.uuid4())))
    relay = OutboxRelay(
        database, worker.outbox_table, lambda: durable_producer(broker.bootstrap, "sasl-ssl", security)
    )
    assert await relay.relay_once() == 3
    await relay.close()

    applied: asyncio.Queue[str] = asyncio.Queue()

    async def apply(session: AsyncSession, event: worker.LedgerEntry, envelope: CloudEvent) -> None:
        await worker.apply_entry(session, event, envelope)
        await applied.put(event.case_id)

    consumer = EventConsumer(
        database=database,
        inbox=worker.inbox_table,
        bootstrap_servers=broker.bootstrap,
        group_id="sasl-ssl",
        topics=[worker.LEDGER_TOPIC],
        handlers={worker.LedgerEntry: apply},
        topic_prefix=prefix,
        security=security,
    )
    task = asyncio.create_task(consumer.run())
    try:
        async with asyncio.timeout(60):
            for _ in range(3):
                await applied.get()
        assert await ledger_rows(database) == 3
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await database.dispose()


async def test_a_service_on_sasl_ssl_is_ready(broker: SecuredKafka) -> None:
    app = await build_app("payment", TestTokens(), **broker.settings())
    async with app_client(app) as client:
        up = await wait_for_status(client, 200)
        assert up.status_code == 200, up.text


async def not_ready_because(broker: SecuredKafka, **settings: Any) -> str:
    app = await build_app("payment", TestTokens(), **(broker.settings() | settings))
    async with app_client(app) as client:
        down = await wait_for_status(client, 503)
        # A few seconds of retries, so the consumers and the watch log what they saw too.
        await asyncio.sleep(3)
    return kafka_problem(down)


def assert_no_secret_in(output: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in output


async def test_a_wrong_password_is_named_in_readyz_and_logged_nowhere(
    broker: SecuredKafka, capfd: pytest.CaptureFixture[str]
) -> None:
    problem = await not_ready_because(broker, kafka_sasl_password=SecretStr(WRONG_PASSWORD))
    assert f"Kafka at {broker.bootstrap} refused ozg" in problem
    assert "invalid credentials with SASL mechanism SCRAM-SHA-512" in problem
    output = capfd.readouterr()
    assert "SaslAuthenticationFailed" in output.err + output.out
    assert_no_secret_in(problem + output.err + output.out, WRONG_PASSWORD, broker.password.get_secret_value())


async def test_an_untrusted_broker_certificate_is_named_in_readyz(
    broker: SecuredKafka, capfd: pytest.CaptureFixture[str]
) -> None:
    # The system's CAs, not the broker's: its certificate chains to a CA nobody here vouches for.
    problem = await not_ready_because(broker, kafka_ssl_cafile=None)
    assert problem.startswith(f"TLS handshake with {broker.bootstrap} failed: self-signed certificate")
    output = capfd.readouterr()
    assert_no_secret_in(problem + output.err + output.out, broker.password.get_secret_value())
