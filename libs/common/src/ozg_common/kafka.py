"""Kafka clients configured the way the suite needs them: durable producer, explicit topics."""

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.conn import create_conn
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    NodeNotReadyError,
    RequestTimedOutError,
    TopicAlreadyExistsError,
    for_code,
)
from pydantic import SecretStr

from ozg_common.events import Topic

logger = logging.getLogger(__name__)

T = TypeVar("T")


SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


@dataclass(frozen=True)
class KafkaSecurity:
    """How the suite's Kafka clients encrypt (TLS) and authenticate (SASL); the default: neither."""

    protocol: SecurityProtocol = "PLAINTEXT"
    cafile: Path | None = None
    """The CA certificates the brokers' certificates must chain to; None: the system's."""
    certfile: Path | None = None
    """A client certificate (PEM), for brokers that ask for one; with `keyfile`."""
    keyfile: Path | None = None
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    username: str = ""
    password: SecretStr = field(default_factory=lambda: SecretStr(""))

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    def ssl_context(self) -> ssl.SSLContext:
        """A context that verifies the brokers' certificates and host names, with our certificate."""
        context = ssl.create_default_context(cafile=self.cafile)
        if self.certfile is not None:
            context.load_cert_chain(self.certfile, self.keyfile)
        return context

    def client_options(self) -> dict[str, Any]:
        """The aiokafka producer, consumer and admin client arguments that say all of this."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password.get_secret_value(),
            }
        return options


PLAINTEXT = KafkaSecurity()


def durable_producer(
    bootstrap_servers: str, client_id: str, security: KafkaSecurity = PLAINTEXT
) -> AIOKafkaProducer:
    """A producer that loses nothing a broker acknowledged and writes no duplicates itself."""
    return AIOKafkaProducer(
        **security.client_options(),
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        # The outbox relay hands over hundreds of rows at once: large batches, a short wait to fill them.
        max_batch_size=256 * 1024,
        linger_ms=5,
        request_timeout_ms=15000,
        retry_backoff_ms=200,
    )


def bootstrap_hosts(bootstrap_servers: str) -> list[tuple[str, int]]:
    """The `host:port` entries of a comma-separated bootstrap list; ValueError names a malformed one."""
    hosts: list[tuple[str, int]] = []
    for entry in bootstrap_servers.split(","):
        host, _, port = entry.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"Kafka bootstrap entry {entry.strip()!r} is not host:port")
        hosts.append((host.strip("[]"), int(port)))
    return hosts


async def from_any_broker(request: Callable[[], Awaitable[T]], attempts: int = 5) -> T:
    """An admin request, asked again when the broker it went to does not answer: aiokafka sends it to
    a broker picked at random from the metadata, which lists a dead broker until the controller
    fences it."""
    for attempt in range(attempts):
        try:
            return await request()
        except (NodeNotReadyError, KafkaConnectionError, RequestTimedOutError):
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


async def describe_topics(admin: AIOKafkaAdminClient, topics: list[str]) -> list[dict[str, Any]]:
    """Partitions, leaders and in-sync replicas of `topics`, from any broker that answers."""
    return list(await from_any_broker(lambda: admin.describe_topics(topics)))


def replication_factor(configured: int | None, live_brokers: int) -> int:
    """Copies of each partition: as configured, else 3 (the production set-up) capped by the brokers."""
    return configured or max(1, min(3, live_brokers))


def min_in_sync(replicas: int) -> int:
    """Replicas an acks=all write needs: all but one, so writes go on while one broker is down."""
    return max(1, replicas - 1)


async def ensure_topics(
    bootstrap_servers: str,
    topics: Iterable[Topic],
    *,
    partitions: int | None = None,
    prefix: str = "",
    replicas: int | None = None,
    min_insync: int | None = None,
    security: KafkaSecurity = PLAINTEXT,
) -> None:
    """Create the topics a service needs (broker auto-creation is off), replicated as
    `replication_factor` says and with `min.insync.replicas` `min_insync`, else as `min_in_sync` says."""
    admin = AIOKafkaAdminClient(
        **security.client_options(), bootstrap_servers=bootstrap_servers, client_id="ozg-topics"
    )
    await admin.start()
    try:
        existing = set(await from_any_broker(admin.list_topics))
        cluster = await from_any_broker(admin.describe_cluster)
        wanted_replicas = replication_factor(replicas, len(cluster["brokers"]))
        missing = [
            NewTopic(
                name=prefix + t.name,
                num_partitions=partitions or t.partitions,
                replication_factor=wanted_replicas,
                topic_configs={"min.insync.replicas": str(min_insync or min_in_sync(wanted_replicas))},
            )
            for t in {t.name: t for t in topics}.values()
            if prefix + t.name not in existing
        ]
        if missing:
            # Another service may create the same topic at the same moment.
            with contextlib.suppress(TopicAlreadyExistsError):
                refused = _refused_topics(await admin.create_topics(missing))
                if refused:
                    # The broker answers per topic and raises nothing: a topic it would not create
                    # (too few brokers for the copies asked) must not pass as created.
                    raise TopicsNotCreatedError("; ".join(refused))
            logger.info(
                "created topics",
                extra={"topics": [t.name for t in missing], "replicas": wanted_replicas},
            )
            # A consumer that subscribes before the broker's metadata shows the new topic would
            # wait for its next metadata refresh (minutes): return only once it is visible.
            wanted = {t.name for t in missing}
            for _ in range(100):
                if wanted <= set(await from_any_broker(admin.list_topics)):
                    break
                await asyncio.sleep(0.1)
    finally:
        await admin.close()


class TopicsNotCreatedError(RuntimeError):
    """The cluster refused to create topics; the message says which and why."""


def _refused_topics(response: Any) -> list[str]:
    """`topic: error` for each topic a CreateTopics response did not create (other than existing ones)."""
    refused: list[str] = []
    for name, code, *message in response.topic_errors:
        if code in (0, TopicAlreadyExistsError.errno):
            continue
        reason = for_code(code).__name__
        if message and message[0]:
            reason += f": {message[0]}"
        refused.append(f"{name}: {reason}")
    return refused


async def missing_topics(
    bootstrap_servers: str, names: Iterable[str], security: KafkaSecurity = PLAINTEXT
) -> list[str]:
    """Those of `names` the cluster does not have, sorted."""
    admin = AIOKafkaAdminClient(
        **security.client_options(), bootstrap_servers=bootstrap_servers, client_id="ozg-topics"
    )
    await admin.start()
    try:
        existing = set(await from_any_broker(admin.list_topics))
    finally:
        await admin.close()
    return sorted(set(names) - existing)


async def connection_problem(address: str, security: KafkaSecurity, wait_seconds: float) -> str | None:
    """Why a connection to one broker fails its TLS handshake or SASL login; None when neither does."""
    ((host, port),) = bootstrap_hosts(address)
    options = security.client_options()
    try:
        connection = await create_conn(
            host, port, client_id="ozg-readiness", request_timeout_ms=int(wait_seconds * 1000), **options
        )
    except ssl.SSLCertVerificationError as exc:
        return f"TLS handshake with {address} failed: {exc.verify_message} (is kafka_ssl_cafile the CA?)"
    except ssl.SSLError as exc:
        return f"TLS handshake with {address} failed: {exc.reason or type(exc).__name__}"
    except KafkaError as exc:
        # The broker's own words (e.g. "invalid credentials with SASL mechanism ..."): never the password.
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"Kafka at {address} refused {security.username or 'us'}: {message}"
    except (OSError, TimeoutError) as exc:
        return f"no connection to {address}: {type(exc).__name__}"
    connection.close()
    return None


async def broker_reachable(bootstrap_servers: str, wait_seconds: float = 1.0) -> bool:
    """True when at least one bootstrap broker accepts a connection."""
    reachable = await asyncio.gather(
        *(_accepts(host, port, wait_seconds) for host, port in bootstrap_hosts(bootstrap_servers))
    )
    return any(reachable)


async def _accepts(host: str, port: int, wait_seconds: float) -> bool:
    try:
        async with asyncio.timeout(wait_seconds):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


@dataclass(frozen=True)
class ClusterState:
    """What keeps a service from writing and reading its topics, one line each, and whether an acks=all
    write to them can succeed now (a broker down or partitions missing leave writes possible)."""

    problems: tuple[str, ...] = ()
    writable: bool = True

    @property
    def problem(self) -> str | None:
        """The problems in one line; None when there are none."""
        return "; ".join(self.problems) or None


async def cluster_problem(
    bootstrap_servers: str,
    expected_partitions: Mapping[str, int],
    wait_seconds: float = 1.0,
    security: KafkaSecurity = PLAINTEXT,
) -> str | None:
    """What keeps the service from writing and reading its topics, in one line; None when nothing does."""
    return (
        await cluster_state(bootstrap_servers, expected_partitions, wait_seconds, security=security)
    ).problem


async def cluster_state(
    bootstrap_servers: str,
    expected_partitions: Mapping[str, int],
    wait_seconds: float = 1.0,
    *,
    replicas: int | None = None,
    security: KafkaSecurity = PLAINTEXT,
) -> ClusterState:
    """The problems of the cluster for a service and whether its writes can succeed; `replicas` is
    the configured replication factor of its topics (`ensure_topics`).

    Checks, in this order: a bootstrap broker that does not accept connections, a topic that is
    missing or has fewer partitions than `expected_partitions` says, a partition without a leader
    or with fewer in-sync replicas than an acks=all write needs.
    """
    hosts = bootstrap_hosts(bootstrap_servers)
    up = await asyncio.gather(*(_accepts(host, port, wait_seconds) for host, port in hosts))
    reachable = [f"{host}:{port}" for (host, port), ok in zip(hosts, up, strict=True) if ok]
    dead = [f"{host}:{port}" for (host, port), ok in zip(hosts, up, strict=True) if not ok]
    if not reachable:
        return ClusterState((f"no Kafka broker reachable at {bootstrap_servers}",), writable=False)
    problems: list[str] = []
    if dead:
        # The bootstrap list names the cluster's brokers (README, "Scaling out"). With fewer of them up
        # than an acks=all write needs, no write succeeds, whatever the metadata says: a cluster that
        # lost its controller quorum with them still lists the dead brokers as leaders and in sync, and
        # asking it often takes longer than a readiness probe may.
        needed = min_in_sync(replication_factor(replicas, len(hosts)))
        line = f"broker {', '.join(dead)} unreachable ({len(reachable)} of {len(hosts)} up"
        if len(reachable) < needed:
            return ClusterState((f"{line}; acks=all writes need {needed})",), writable=False)
        problems.append(line + ")")
    admin = AIOKafkaAdminClient(
        **security.client_options(),
        bootstrap_servers=",".join(reachable),
        client_id="ozg-readiness",
        request_timeout_ms=int(wait_seconds * 1000),
    )
    try:
        await admin.start()
        described = await describe_topics(admin, sorted(expected_partitions)) if expected_partitions else []
    except Exception as exc:
        # aiokafka logs why each broker refused and raises only "unable to bootstrap": ask one again.
        reason = await connection_problem(reachable[0], security, wait_seconds)
        if reason is not None:
            return ClusterState((*problems, reason), writable=False)
        # Enough brokers accept connections: a write may well succeed, and what the relay cannot
        # publish yet waits in the outbox.
        problems.append(f"Kafka cluster does not answer: {type(exc).__name__}")
        return ClusterState(tuple(problems))
    finally:
        await admin.close()
    writable = True
    for topic in described:
        name, partitions = topic["topic"], topic["partitions"]
        if topic["error_code"] != 0 or not partitions:
            problems.append(f"topic {name} missing")
            writable = False
            continue
        count, expected = len(partitions), expected_partitions[name]
        if count < expected:
            problems.append(f"topic {name} has {count} partitions, expected {expected}")
        leaderless = sum(1 for p in partitions if p["leader"] < 0)
        if leaderless:
            problems.append(f"topic {name}: {leaderless} of {count} partitions without a leader")
        short = sum(
            1 for p in partitions if p["leader"] >= 0 and len(p["isr"]) < min_in_sync(len(p["replicas"]))
        )
        if short:
            problems.append(f"topic {name}: {short} of {count} partitions with too few in-sync replicas")
        writable = writable and not leaderless and not short
    return ClusterState(tuple(problems), writable)
