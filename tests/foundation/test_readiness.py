"""/readyz says in one line what is wrong with Kafka (a dead broker in the bootstrap list, no broker
reachable at start-up, a topic with fewer partitions than expected) and turns 200 by itself once
Kafka is fine. The shared broker is never stopped: a TCP relay in front of it plays the broker that
is down, then comes back."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic

from ozg_testing import TestTokens, app_client, free_port, kafka_bootstrap, unique_topic_prefix

from .conftest import build_app


class BrokerStandIn:
    """A TCP relay on its own port to the test broker, listening only while `up`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self._server: asyncio.Server | None = None

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def down(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        host, _, port = kafka_bootstrap().split(",")[0].rpartition(":")
        broker_reader, broker_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(_pipe(client_reader, broker_writer), _pipe(broker_reader, client_writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


@pytest.fixture
async def stand_in() -> AsyncIterator[BrokerStandIn]:
    relay = BrokerStandIn()
    yield relay
    await relay.down()


async def wait_for_status(client: httpx.AsyncClient, status: int, within: float = 60) -> httpx.Response:
    deadline = time.monotonic() + within
    while True:
        answer = await client.get("/readyz")
        if answer.status_code == status or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.5)


def kafka_problem(answer: httpx.Response) -> str:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["checks"]["database"] == "ok"
    assert body["detail"] == f"kafka: {body['checks']['kafka']}"
    assert "\n" not in body["detail"]
    return str(body["checks"]["kafka"])


async def test_a_dead_broker_in_the_bootstrap_list_is_named_until_it_answers(stand_in: BrokerStandIn) -> None:
    app = await build_app(
        "payment", TestTokens(), kafka_bootstrap_servers=f"{kafka_bootstrap()},{stand_in.address}"
    )
    async with app_client(app) as client:
        down = await wait_for_status(client, 503)
        assert kafka_problem(down) == f"broker {stand_in.address} unreachable (1 of 2 up)"
        await stand_in.up()
        up = await wait_for_status(client, 200)
        assert up.status_code == 200, up.text
        assert up.json()["checks"] == {"database": "ok", "kafka": "ok"}


async def test_a_service_starts_without_kafka_and_gets_ready_when_kafka_comes(
    stand_in: BrokerStandIn,
) -> None:
    app = await build_app("payment", TestTokens(), kafka_bootstrap_servers=stand_in.address)
    async with app_client(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        down = await wait_for_status(client, 503)
        assert kafka_problem(down) == f"no Kafka broker reachable at {stand_in.address}"
        await stand_in.up()
        up = await wait_for_status(client, 200)
        assert up.status_code == 200, up.text


async def test_a_topic_with_too_few_partitions_is_named_until_it_has_enough() -> None:
    prefix = unique_topic_prefix()
    app = await build_app("payment", TestTokens(), topic_prefix=prefix, topic_partitions=2)
    topic = prefix + app.state.runtime.topics[0].name
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        async with app_client(app) as client:
            down = await wait_for_status(client, 503)
            assert f"topic {topic} has 1 partitions, expected 2" in kafka_problem(down)
            await admin.create_partitions({topic: NewPartitions(total_count=2)})
            up = await wait_for_status(client, 200)
            assert up.status_code == 200, up.text
    finally:
        await admin.close()
