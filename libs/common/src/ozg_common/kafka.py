"""Kafka clients configured the way the suite needs them: durable producer, explicit topics."""

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from ozg_common.events import Topic

logger = logging.getLogger(__name__)


def durable_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    """A producer that loses nothing a broker acknowledged and writes no duplicates itself."""
    return AIOKafkaProducer(
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


async def ensure_topics(
    bootstrap_servers: str,
    topics: Iterable[Topic],
    *,
    partitions: int | None = None,
    prefix: str = "",
) -> None:
    """Create the topics a service needs (broker auto-creation is off)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="ozg-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=prefix + t.name,
                num_partitions=partitions or t.partitions,
                replication_factor=1,
            )
            for t in {t.name: t for t in topics}.values()
            if prefix + t.name not in existing
        ]
        if missing:
            # Another service may create the same topic at the same moment.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
            logger.info("created topics", extra={"topics": [t.name for t in missing]})
            # A consumer that subscribes before the broker's metadata shows the new topic would
            # wait for its next metadata refresh (minutes): return only once it is visible.
            wanted = {t.name for t in missing}
            for _ in range(100):
                if wanted <= set(await admin.list_topics()):
                    break
                await asyncio.sleep(0.1)
    finally:
        await admin.close()


async def broker_reachable(bootstrap_servers: str, wait_seconds: float = 1.0) -> bool:
    """True when at least one bootstrap broker accepts a connection."""
    for server in bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            async with asyncio.timeout(wait_seconds):
                _, writer = await asyncio.open_connection(host, int(port))
        except (OSError, TimeoutError):
            continue
        writer.close()
        await writer.wait_closed()
        return True
    return False
