"""Test kit shared by every service's tests: real PostgreSQL databases, real Kafka, real HTTP.

Nothing here fakes infrastructure: a test that needs Kafka fails when Kafka is not running.
"""

import asyncio
import contextlib
import os
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import MetaData
from sqlalchemy.engine import make_url

from ozg_common.auth import TokenIssuer, TokenVerifier
from ozg_common.db import Database
from ozg_common.events import CloudEvent, Event
from ozg_common.kafka import KafkaSecurity, describe_topics, from_any_broker
from ozg_common.keys import load_or_create_rsa_key
from ozg_common.service import ServiceRuntime, uvicorn_options
from ozg_common.settings import PROJECT_ROOT, ServiceSettings
from ozg_testing.processes import ServiceProcess

TEST_ISSUER = "http://127.0.0.1:8002"

__all__ = [
    "KafkaCluster",
    "ServiceProcess",
    "TcpLink",
    "TestTokens",
    "app_client",
    "assert_events_unavailable",
    "delete_topics",
    "fresh_database",
    "fresh_postgres_database",
    "kafka_cluster",
    "publish_event",
    "send_event",
    "serving",
    "until_kafka_refuses_writes",
]


def postgres_server_url() -> str:
    return os.environ.get("OZG_TEST_POSTGRES_URL", "postgresql+asyncpg://ozg:ozg@127.0.0.1:5432")


def kafka_bootstrap() -> str:
    return os.environ.get("OZG_TEST_KAFKA", "127.0.0.1:9092")


async def fresh_postgres_database(name: str) -> str:
    """Drop and create database `name`; returns its SQLAlchemy URL.

    `OZG_TEST_DATABASE_PREFIX` is put before the name, so that checkouts testing at the same time
    against one PostgreSQL server never drop each other's databases."""
    name = os.environ.get("OZG_TEST_DATABASE_PREFIX", "") + name
    server = make_url(postgres_server_url())
    connection = await asyncpg.connect(
        host=server.host,
        port=server.port or 5432,
        user=server.username,
        password=server.password,
        database="postgres",
    )
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return server.set(database=name).render_as_string(hide_password=False)


async def fresh_database(kind: str, name: str, directory: Path, metadata: MetaData) -> Database:
    """A new database with `metadata`'s tables: PostgreSQL (`kind` "postgresql") or a SQLite
    file in `directory` (`kind` "sqlite"), for tests that run on both."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{directory / f'{name}.sqlite3'}"
    else:
        url = await fresh_postgres_database(name)
    database = Database(url)
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return database


def unique_topic_prefix() -> str:
    """Topics of one test run, so runs and tests do not read each other's events."""
    return f"t{uuid.uuid4().hex[:10]}."


async def delete_topics(prefix: str) -> None:
    """Delete the topics named `prefix`…, one run's. A cluster that outlives the run would otherwise
    replicate and fetch every past run's partitions for ever."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap(), client_id="ozg-test-topics")
    await admin.start()
    try:
        names = [t for t in await from_any_broker(admin.list_topics) if t.startswith(prefix)]
        if names:
            await from_any_broker(lambda: admin.delete_topics(names))
    finally:
        await admin.close()


async def send_event(
    producer: AIOKafkaProducer, event: Event, *, source: str, prefix: str = ""
) -> tuple[CloudEvent, asyncio.Future[Any]]:
    """Hand `event` to Kafka as the services' outbox relays do: a CloudEvent in binary mode on
    `prefix` + the event's topic, keyed by its partition key. The future resolves once the brokers
    have it, so a caller sending many waits for them together."""
    envelope = CloudEvent.wrap(event, source=source)
    delivery: asyncio.Future[Any] = await producer.send(
        prefix + event.topic.name,
        value=envelope.kafka_value(),
        key=event.partition_key().encode(),
        headers=envelope.kafka_headers(),
    )
    return envelope, delivery


async def publish_event(
    producer: AIOKafkaProducer, event: Event, *, source: str, prefix: str = ""
) -> CloudEvent:
    """Publish `event` (see `send_event`) and wait until the brokers have it; the envelope sent."""
    envelope, delivery = await send_event(producer, event, source=source, prefix=prefix)
    await delivery
    return envelope


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TcpLink:
    """A TCP relay on a loopback port of its own to a shared server (PostgreSQL, a Kafka bootstrap
    broker) that a test can cut: the server then seems gone (open connections reset, new ones
    refused) to whoever connects through the link, while it runs on for everyone else."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.open: set[asyncio.StreamWriter] = set()

    async def connect(self) -> None:
        """Listen (again) on the link's port and relay every connection."""
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def cut(self) -> None:
        """Reset every relayed connection and stop listening."""
        if self.server is None:
            return
        self.server.close()
        for writer in self.open:
            writer.transport.abort()
        self.open.clear()
        await self.server.wait_closed()
        self.server = None

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        self.open |= {client_writer, server_writer}
        await asyncio.gather(
            self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer)
        )

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()


def assert_events_unavailable(answer: httpx.Response, bootstrap: str) -> None:
    """`answer` is the 503 a write gets while Kafka at `bootstrap` cannot take its events."""
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "1"  # the tests' kafka_watch_interval, rounded up
    assert answer.json()["type"].endswith("/events-unavailable")
    assert "Kafka cannot take writes" in answer.json()["detail"]
    assert bootstrap in answer.json()["detail"]


async def until_kafka_refuses_writes(runtime: ServiceRuntime, within: float = 10) -> None:
    """Wait until the service's own Kafka check has found that Kafka cannot take writes (a cut link)."""
    deadline = time.monotonic() + within
    while runtime.kafka_refuses_writes is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"the service's Kafka check still finds Kafka writable after {within} s")
        await asyncio.sleep(0.1)


@asynccontextmanager
async def serving(
    app: FastAPI, port: int | None = None, *, settings: ServiceSettings | None = None
) -> AsyncIterator[str]:
    """Serve `app` over real HTTP on loopback for the block; yields its base URL. With `settings`,
    uvicorn is set up as the service's own `serve` sets it up."""
    port = port or free_port()
    # Kept alive longer than a client keeps an idle connection (httpx: 5 s): with both at uvicorn's
    # 5 s, a request on a connection idle for just under 5 s can meet the server closing it.
    options = uvicorn_options(settings) if settings else {"log_config": None, "timeout_keep_alive": 75}
    config = uvicorn.Config(app, **(options | {"host": "127.0.0.1", "port": port, "lifespan": "on"}))
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 60
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped during start-up")
        if time.monotonic() > deadline:
            raise TimeoutError("server did not start")
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class TestTokens:
    """A token issuer for tests, and a verifier that trusts it without an HTTP round trip."""

    __test__ = False

    def __init__(self, issuer: str = TEST_ISSUER, key_path: Path | None = None) -> None:
        key_path = key_path or PROJECT_ROOT / "var" / "test-keys" / "issuer.json"
        self.issuer = TokenIssuer(issuer, load_or_create_rsa_key(key_path))

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(issuer=self.issuer.issuer, jwks=self.issuer.jwks())

    def token(self, *scopes: str, subject: str = "test-client", **claims: Any) -> str:
        return self.issuer.issue(subject, scopes, client_id=subject, **claims)

    def headers(self, *scopes: str, subject: str = "test-client", **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(*scopes, subject=subject, **claims)}"}


@asynccontextmanager
async def app_client(app: FastAPI, base_url: str = "http://testserver") -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (migrations, relay, consumers) and talk to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


KAFKA_SCRIPT = PROJECT_ROOT / "deploy" / "local" / "kafka.sh"


@dataclass(frozen=True)
class KafkaCluster:
    """A Kafka cluster of our own (deploy/local/kafka.sh with KAFKA_BROKERS), for fault injection:
    its brokers can be SIGKILLed without touching the broker everyone else uses."""

    port_base: int
    state_dir: Path
    brokers: int = 3

    @property
    def bootstrap(self) -> str:
        """The bootstrap list of every broker."""
        return ",".join(f"127.0.0.1:{self.port_base + n}" for n in range(self.brokers))

    def broker_address(self, node: int) -> str:
        return f"127.0.0.1:{self.port_base + node - 1}"

    def script(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run kafka.sh for this cluster (`up`, `down`, `status`, `kill N`, `start-node N`)."""
        env = {
            **os.environ,
            "KAFKA_BROKERS": str(self.brokers),
            "KAFKA_PORT_BASE": str(self.port_base),
            "KAFKA_STATE_DIR": str(self.state_dir),
        }
        return subprocess.run(
            [str(KAFKA_SCRIPT), *args], env=env, check=check, text=True, capture_output=True, timeout=300
        )

    def running(self) -> bool:
        return self.script("status", check=False).returncode == 0

    async def kill(self, *nodes: int) -> None:
        """SIGKILL brokers (a crash, not a shutdown)."""
        await asyncio.to_thread(self.script, "kill", *map(str, nodes))

    async def start(self, *nodes: int) -> None:
        """Start killed brokers again; returns once they serve clients."""
        await asyncio.to_thread(self.script, "start-node", *map(str, nodes))

    async def leader(self, topic: str, partition: int) -> int:
        """The node (broker number) that leads a partition."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, client_id="ozg-test-cluster")
        await admin.start()
        try:
            (description,) = await describe_topics(admin, [topic])
        finally:
            await admin.close()
        (found,) = (p for p in description["partitions"] if p["partition"] == partition)
        return int(found["leader"])


@contextmanager
def kafka_cluster() -> Iterator[KafkaCluster]:
    """The tests' three-broker cluster: taken as it is when running, else started for the block
    and stopped after it. Ports from OZG_TEST_KAFKA_CLUSTER_PORT_BASE (default 19092-19094)."""
    cluster = KafkaCluster(
        port_base=int(os.environ.get("OZG_TEST_KAFKA_CLUSTER_PORT_BASE", "19092")),
        state_dir=PROJECT_ROOT / "var" / "kafka-test-cluster",
    )
    started = not cluster.running()
    if started:
        try:
            cluster.script("up")
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"the three-broker test cluster did not start:\n{exc.stderr}") from exc
    try:
        yield cluster
    finally:
        if started:
            cluster.script("down", check=False)


@dataclass(frozen=True)
class SecuredKafka:
    """A broker of our own with a SASL_SSL listener (TLS and SCRAM-SHA-512, deploy/local/kafka.sh
    KAFKA_SASL_SSL_PORT), as a data centre's: the shared broker keeps its plain listener."""

    port: int
    controller_port: int
    sasl_ssl_port: int
    state_dir: Path

    @property
    def bootstrap(self) -> str:
        """The SASL_SSL listener, as services take it."""
        return f"127.0.0.1:{self.sasl_ssl_port}"

    @property
    def tls_dir(self) -> Path:
        return self.state_dir / "tls"

    @property
    def password(self) -> SecretStr:
        return SecretStr((self.tls_dir / "sasl.password").read_text().strip())

    def settings(self) -> dict[str, Any]:
        """Service settings that reach the broker over SASL_SSL, with the client certificate."""
        return {
            "kafka_bootstrap_servers": self.bootstrap,
            "kafka_security_protocol": "SASL_SSL",
            "kafka_ssl_cafile": self.tls_dir / "ca.pem",
            "kafka_ssl_certfile": self.tls_dir / "client.pem",
            "kafka_ssl_keyfile": self.tls_dir / "client.key",
            "kafka_sasl_username": "ozg",
            "kafka_sasl_password": self.password,
        }

    def security(self) -> KafkaSecurity:
        return ServiceSettings.model_validate(self.settings()).kafka_security

    def script(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "KAFKA_BROKERS": "1",
            "KAFKA_PORT_BASE": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "KAFKA_SASL_SSL_PORT": str(self.sasl_ssl_port),
            "KAFKA_STATE_DIR": str(self.state_dir),
        }
        return subprocess.run(
            [str(KAFKA_SCRIPT), *args], env=env, check=check, text=True, capture_output=True, timeout=300
        )


@contextmanager
def secured_kafka() -> Iterator[SecuredKafka]:
    """A SASL_SSL broker on free ports with fresh state (certificates, SCRAM user), for the block."""
    with tempfile.TemporaryDirectory(prefix="ozg-kafka-sasl-") as state:
        broker = SecuredKafka(free_port(), free_port(), free_port(), Path(state))
        try:
            broker.script("up")
        except subprocess.CalledProcessError as exc:
            broker.script("down", check=False)
            raise RuntimeError(f"the SASL_SSL test broker did not start:\n{exc.stderr}") from exc
        try:
            yield broker
        finally:
            broker.script("down", check=False)
