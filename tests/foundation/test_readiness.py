"""/readyz says in one line what is wrong with Kafka (a dead broker in the bootstrap list, no broker
reachable at start-up, a topic with fewer partitions than expected) and turns 200 by itself once
Kafka is fine. With topic creation off, or refused by the cluster, a missing topic is named with
the reason and never created with other settings. The shared broker is never stopped: a TCP relay
in front of it plays the broker that is down, then comes back."""

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from ozg_testing import TcpLink, TestTokens, app_client, kafka_bootstrap, unique_topic_prefix

from .conftest import build_app


def broker_stand_in() -> TcpLink:
    """A relay on a port of its own to the test broker: a broker that is down until `connect()`."""
    host, _, port = kafka_bootstrap().split(",")[0].rpartition(":")
    return TcpLink(host, int(port))


def address(link: TcpLink) -> str:
    return f"127.0.0.1:{link.port}"


@pytest.fixture
async def stand_in() -> AsyncIterator[TcpLink]:
    link = broker_stand_in()
    yield link
    await link.cut()


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


async def test_a_dead_broker_in_the_bootstrap_list_is_named_until_it_answers(stand_in: TcpLink) -> None:
    app = await build_app(
        "payment", TestTokens(), kafka_bootstrap_servers=f"{kafka_bootstrap()},{address(stand_in)}"
    )
    async with app_client(app) as client:
        down = await wait_for_status(client, 503)
        assert kafka_problem(down) == f"broker {address(stand_in)} unreachable (1 of 2 up)"
        await stand_in.connect()
        up = await wait_for_status(client, 200)
        assert up.status_code == 200, up.text
        assert up.json()["checks"] == {"database": "ok", "kafka": "ok"}


async def test_too_few_brokers_up_for_acks_all_writes_is_named_and_refuses_writes() -> None:
    dead = [broker_stand_in(), broker_stand_in()]
    app = await build_app(
        "submission",
        TestTokens(),
        kafka_bootstrap_servers=",".join([kafka_bootstrap(), *map(address, dead)]),
        kafka_watch_interval=0.2,
    )
    async with app_client(app) as client:
        down = await wait_for_status(client, 503)
        reason = f"broker {', '.join(map(address, dead))} unreachable (1 of 3 up; acks=all writes need 2)"
        assert kafka_problem(down) == reason
        deadline = time.monotonic() + 10
        while (intake := await client.post("/v1/applications", json={})).status_code != 503:
            assert time.monotonic() < deadline, intake.text
            await asyncio.sleep(0.1)
    assert intake.headers["retry-after"] == "1"
    assert intake.json()["type"].endswith("/events-unavailable")
    assert reason in intake.json()["detail"]


async def test_a_service_starts_without_kafka_and_gets_ready_when_kafka_comes(
    stand_in: TcpLink,
) -> None:
    app = await build_app("payment", TestTokens(), kafka_bootstrap_servers=address(stand_in))
    async with app_client(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        down = await wait_for_status(client, 503)
        assert kafka_problem(down) == f"no Kafka broker reachable at {address(stand_in)}"
        await stand_in.connect()
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


async def existing_topics() -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def test_with_topic_creation_off_a_missing_topic_is_named_until_it_is_created() -> None:
    app = await build_app("payment", TestTokens(), topic_auto_create=False)
    topics = sorted(app.state.runtime.expected_partitions)
    async with app_client(app) as client:
        down = await wait_for_status(client, 503)
        problem = kafka_problem(down)
        for topic in topics:
            assert f"topic {topic} missing" in problem
        assert "topic_auto_create is off" in problem
        assert not set(topics) & await existing_topics()
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
        await admin.start()
        try:
            await admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=1) for t in topics])
        finally:
            await admin.close()
        up = await wait_for_status(client, 200)
        assert up.status_code == 200, up.text


async def test_created_topics_have_the_configured_min_insync_replicas() -> None:
    app = await build_app("payment", TestTokens(), topic_replication_factor=1, topic_min_insync_replicas=1)
    topics = sorted(app.state.runtime.expected_partitions)
    async with app_client(app) as client:
        up = await wait_for_status(client, 200)
        assert up.status_code == 200, up.text
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        resources = [ConfigResource(ConfigResourceType.TOPIC, t) for t in topics]
        described = await admin.describe_configs(resources)
    finally:
        await admin.close()
    for response in described:
        for _, _, _, _, entries in response.resources:
            values = {entry[0]: entry[1] for entry in entries}
            assert values["min.insync.replicas"] == "1"


async def test_more_copies_than_brokers_creates_no_topic_and_says_why() -> None:
    app = await build_app("payment", TestTokens(), topic_replication_factor=3)
    topics = sorted(app.state.runtime.expected_partitions)
    async with app_client(app) as client:
        down = await wait_for_status(client, 503)
        assert "the cluster refused to create them" in kafka_problem(down)
        assert "InvalidReplicationFactorError" in kafka_problem(down)
    assert not set(topics) & await existing_topics()
