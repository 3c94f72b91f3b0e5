"""The runtime every service shares: database, migrations, outbox relay, consumers, app."""

import asyncio
import gc
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from sqlalchemy import MetaData

from ozg_common import migrations
from ozg_common.asyncapi import asyncapi_router
from ozg_common.auth import TokenVerifier
from ozg_common.consumer import EventConsumer, Handler
from ozg_common.db import Database, database_unreachable
from ozg_common.events import Event, Topic
from ozg_common.health import CHECK_SECONDS, ReadinessCheck, install_health
from ozg_common.kafka import (
    ClusterState,
    TopicsNotCreatedError,
    cluster_state,
    durable_producer,
    ensure_topics,
    missing_topics,
)
from ozg_common.logging import configure_logging
from ozg_common.metrics import ServiceMetrics, install_metrics
from ozg_common.openapi import install_openapi
from ozg_common.outbox import Outbox, OutboxRelay, event_source
from ozg_common.problems import ServiceUnavailable, install_problem_handlers
from ozg_common.settings import ServiceSettings
from ozg_common.tasks import await_chain, awaiting_at, stop_tasks
from ozg_common.tracing import TracingMiddleware, configure_tracing

logger = logging.getLogger(__name__)

TOPICS_SECONDS = 15.0
"""How long one attempt to create the topics may take."""


@dataclass(frozen=True)
class ConsumerSpec:
    """A consumer group of this service: which topics, and a handler per event type."""

    group_id: str
    topics: Sequence[Topic]
    handlers: Mapping[type[Event], Handler]


@dataclass
class ServiceRuntime:
    """What a running service owns besides its routes."""

    settings: ServiceSettings
    metadata: MetaData
    migrations: Path
    produces: Sequence[Topic] = ()
    consumers: Sequence[ConsumerSpec] = ()
    verifier: TokenVerifier | None = None
    database: Database = field(init=False)
    outbox: Outbox = field(init=False)
    relay: OutboxRelay = field(init=False)
    metrics: ServiceMetrics = field(init=False)
    event_consumers: list[EventConsumer] = field(init=False, default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)
    _stopped: bool = field(init=False, default=False)
    _topics_missing: str | None = field(init=False, default="not created yet")
    """Why the service's topics are not known to exist yet; None once they are."""
    _topics_not_created: str | None = field(init=False, default=None)
    """Why the service leaves missing topics missing (creation off, or refused by the cluster)."""
    kafka_refuses_writes: str | None = field(init=False, default=None)
    """Why Kafka cannot take the service's events now, as the last check (`_watch_kafka`) found;
    None when it can."""

    def __post_init__(self) -> None:
        s = self.settings
        self.database = Database(s.database_location, pool_size=s.database_pool_size)
        outbox_table = self.metadata.tables["outbox"]
        self.outbox = Outbox(outbox_table, source=event_source(s.service_name), topic_prefix=s.topic_prefix)
        self.relay = OutboxRelay(
            self.database,
            outbox_table,
            lambda: durable_producer(s.kafka_bootstrap_servers, f"ozg-{s.service_name}", s.kafka_security),
            poll_interval=s.outbox_poll_interval,
            round_interval=s.outbox_round_interval,
            # Its thread must have stopped, or been given up, before the runtime gives up its task.
            stop_timeout=s.stop_timeout * 0.75,
        )
        self.metrics = ServiceMetrics(s.service_name)
        self.metrics.refreshers.append(self._refresh_metrics)
        if self.verifier is None:
            self.verifier = TokenVerifier(issuer=s.token_issuer, jwks_url=s.jwks_url)
        for spec in self.consumers:
            self.event_consumers.append(
                EventConsumer(
                    database=self.database,
                    inbox=self.metadata.tables["inbox"],
                    bootstrap_servers=s.kafka_bootstrap_servers,
                    group_id=spec.group_id,
                    topics=spec.topics,
                    handlers=spec.handlers,
                    topic_prefix=s.topic_prefix,
                    security=s.kafka_security,
                )
            )

    async def start(self) -> None:
        await migrations.upgrade(self.database, self.migrations)
        if not self.settings.kafka_enabled:
            return
        # Kafka may be down or half configured when the service starts: it serves (and /readyz says
        # why it is not ready) while the topics are created, and relays and consumes once they are.
        # Usually they are there at once, and the service is ready as soon as it serves.
        if await self._create_topics():
            self._start_messaging()
        else:
            self.spawn("kafka-start-up", self._start_messaging_when_topics_exist)
        self.spawn("kafka-watch", self._watch_kafka)

    @property
    def topics(self) -> list[Topic]:
        """Every topic the service writes or reads."""
        return [*self.produces, *(t for spec in self.consumers for t in spec.topics)]

    @property
    def expected_partitions(self) -> dict[str, int]:
        """Partitions each of the service's topics must have, by full topic name."""
        s = self.settings
        return {s.topic_prefix + t.name: s.topic_partitions or t.partitions for t in self.topics}

    def _start_messaging(self) -> None:
        # On PostgreSQL the relay gets a loop and connections of its own (see run_in_thread);
        # SQLite (one local process, `make run`) keeps a single writer connection pool.
        relay = self.relay.run if self.database.is_sqlite else self.relay.run_in_thread
        self.spawn("outbox-relay", relay)
        for consumer in self.event_consumers:
            self.spawn(f"consumer-{consumer.group_id}", consumer.run)

    async def _start_messaging_when_topics_exist(self) -> None:
        pause = 0.5
        while not await self._create_topics():
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)
        self._start_messaging()

    async def _create_topics(self) -> bool:
        """Create the service's topics (or, with creation off, find them); False (and the reason kept
        for /readyz) while they are not there."""
        s = self.settings
        try:
            # Bounded: a broker that accepts connections but never answers must not hold up start-up.
            async with asyncio.timeout(TOPICS_SECONDS):
                if not s.topic_auto_create:
                    missing = await missing_topics(
                        s.kafka_bootstrap_servers, self.expected_partitions, s.kafka_security
                    )
                    if missing:
                        self._topics_not_created = "topic_auto_create is off: a topics job creates them"
                        self._topics_missing = f"missing: {', '.join(missing)} ({self._topics_not_created})"
                        return False
                else:
                    await ensure_topics(
                        s.kafka_bootstrap_servers,
                        self.topics,
                        partitions=s.topic_partitions,
                        prefix=s.topic_prefix,
                        replicas=s.topic_replication_factor,
                        min_insync=s.topic_min_insync_replicas,
                        security=s.kafka_security,
                    )
        except TopicsNotCreatedError as exc:
            self._topics_not_created = f"the cluster refused to create them: {exc}"
            self._topics_missing = f"not created ({exc})"
            logger.warning("kafka: topics refused, retrying", extra={"error": str(exc)})
            return False
        except Exception as exc:
            self._topics_missing = f"not created yet ({type(exc).__name__}: {exc})"
            logger.warning(
                f"kafka: cannot create topics at {s.kafka_bootstrap_servers}, retrying",
                extra={"error": repr(exc)},
            )
            return False
        self._topics_missing = self._topics_not_created = None
        return True

    async def _watch_kafka(self) -> None:
        """Log, one line each, when Kafka stops being usable, what changes, and when it is again."""
        reported: str | None = None
        since = 0.0
        while True:
            try:
                async with asyncio.timeout(CHECK_SECONDS):
                    state = await self.kafka_state()
                problem = state.problem
                self.kafka_refuses_writes = None if state.writable else problem
            except TimeoutError:
                # Whether writes would succeed is not known: the last check's answer stands.
                problem = f"the cluster does not answer within {CHECK_SECONDS:g} s"
            if problem != reported:
                if problem is None:
                    logger.info(f"kafka: usable again after {time.monotonic() - since:.0f} s")
                else:
                    if reported is None:
                        since = time.monotonic()
                    logger.warning(f"kafka: {problem}")
                reported = problem
            await asyncio.sleep(self.settings.kafka_watch_interval)

    def spawn(self, name: str, run: Callable[[], Awaitable[None]], *, restart_delay: float = 1.0) -> None:
        """Run a background loop for the service's lifetime; restart it if it crashes."""

        if self._stopped:
            return

        async def supervised() -> None:
            while True:
                try:
                    await run()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if database_unreachable(exc):
                        # An outage, not a bug: one line saying so, without a traceback per task.
                        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
                        logger.warning(
                            f"{name}: database unreachable ({reason}); retrying in {restart_delay:g} s",
                            extra={"task": name},
                        )
                    else:
                        logger.exception("background task crashed; restarting", extra={"task": name})
                    await asyncio.sleep(restart_delay)

        self._tasks.append(asyncio.create_task(supervised(), name=name))

    async def stop(self) -> None:
        """Stop the background tasks, then the database; a task that will not stop is reported
        with where it waits (an error, not a shutdown that hangs until the process is killed)."""
        self._stopped = True
        tasks, self._tasks = self._tasks, []
        try:
            stuck = await stop_tasks(tasks, limit=self.settings.stop_timeout)
        finally:
            await self.database.dispose()
        if stuck:
            logger.error(
                "background tasks did not stop; left behind",
                extra={"where": "\n".join(map(await_chain, stuck))},
            )
            raise RuntimeError(
                f"background tasks did not stop within {self.settings.stop_timeout:g} s: "
                + "; ".join(map(awaiting_at, stuck))
            )

    async def kafka_state(self) -> ClusterState:
        """What keeps the service from writing and reading its topics, and whether it can write them."""
        s = self.settings
        state = await cluster_state(
            s.kafka_bootstrap_servers,
            self.expected_partitions,
            replicas=s.topic_replication_factor,
            security=s.kafka_security,
        )
        if self._topics_missing is not None:
            return ClusterState(state.problems or (f"topics {self._topics_missing}",), writable=False)
        return state

    async def kafka_ready(self) -> str | None:
        """What keeps the service from writing and reading its topics, or None."""
        problem = (await self.kafka_state()).problem
        if problem is not None and self._topics_not_created is not None:
            return f"{problem} ({self._topics_not_created})"
        return problem

    async def database_ready(self) -> None:
        await self.database.ping()

    async def _refresh_metrics(self) -> None:
        self.metrics.outbox_backlog.set(await self.relay.backlog())
        self.metrics.events_published.set(self.relay.published_total)
        # Rebuilt on every scrape: partitions moved to another replica must vanish from our output.
        self.metrics.consumer_lag.clear()
        for consumer in self.event_consumers:
            self.metrics.events_consumed.labels(consumer.group_id).set(consumer.consumed_total)
            for partition, lag in consumer.lag.items():
                self.metrics.consumer_lag.labels(consumer.group_id, partition).set(lag)


Hook = Callable[[ServiceRuntime], Awaitable[None]]


class EventsUnavailable(ServiceUnavailable):
    """Kafka cannot take the service's events now, so a change that announces one is refused."""

    slug = "events-unavailable"
    title = "Events Cannot Be Published"


async def _kafka_takes_writes(request: Request) -> None:
    runtime: ServiceRuntime = request.app.state.runtime
    if (reason := runtime.kafka_refuses_writes) is not None:
        # The next check may find Kafka back; asking again earlier would get this same answer.
        retry = math.ceil(runtime.settings.kafka_watch_interval)
        raise EventsUnavailable(
            f"Kafka cannot take writes ({reason}); nothing was stored, try again later.",
            headers={"Retry-After": str(retry)},
        )


KafkaWritable = Depends(_kafka_takes_writes)
"""For `dependencies=[KafkaWritable]` of an intake route: while the last check found that Kafka cannot
take acks=all writes, the request is answered 503 `EventsUnavailable` with Retry-After before anything
is stored. What is accepted meanwhile would still be safe in the outbox; refusing it makes the outage
visible to the client (issue 20) instead of a backlog that grows unseen."""


def create_service_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    readiness: Mapping[str, ReadinessCheck] | None = None,
    **fastapi_options: Any,
) -> FastAPI:
    """A FastAPI app with the suite's logging, problem details, health, metrics, lifespan and an
    OpenAPI document a client can be generated from; `readiness` adds the service's own /readyz
    checks to the database's and Kafka's."""
    settings = runtime.settings
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name, settings.otlp_endpoint)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Workers and replicas start one at a time: start-up work (migrations, imports, seeds,
        # bootstrap clients) then finds what the one before it did instead of racing it.
        async with runtime.database.exclusively("start-up"):
            await runtime.start()
            for hook in on_startup:
                await hook(runtime)
        # What start-up built (routes, schemas, catalogues, keys) lives as long as the process. Out
        # of the collector's sight, its few hundred thousand objects are not walked by a full
        # collection under load while every request waits (bench/README.md, token_endpoint). No
        # collection first: in a test process that starts hundreds of apps it would cost more than
        # the little start-up garbage it would free.
        gc.freeze()
        logger.info("started", extra={"url": settings.public_base_url})
        try:
            yield
        finally:
            gc.unfreeze()
            for hook in on_shutdown:
                await hook(runtime)
            await runtime.stop()

    app = FastAPI(
        title=title,
        description=description,
        lifespan=lifespan,
        # Once a tracer provider is set (OTLP on), FastAPI's own telemetry would trace every request
        # a second time beside TracingMiddleware, with a span per dependency, endpoint and
        # serialisation too; requests are counted by our Prometheus metrics.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        **fastapi_options,
    )
    app.state.runtime = runtime
    app.state.database = runtime.database
    app.state.token_verifier = runtime.verifier
    install_problem_handlers(app)
    install_metrics(app, runtime.metrics)
    app.add_middleware(TracingMiddleware, recording=bool(settings.otlp_endpoint))
    checks: dict[str, ReadinessCheck] = {"database": runtime.database_ready}
    if settings.kafka_enabled:
        checks["kafka"] = runtime.kafka_ready
    install_health(app, {**checks, **(readiness or {})})
    app.include_router(asyncapi_router())
    for router in routers:
        app.include_router(router)
    # The suite's tokens come from the issuer's OAuth2 endpoint (the submission service's /token).
    install_openapi(app, token_url=f"{settings.token_issuer.rstrip('/')}/token")
    return app


def uvicorn_options(settings: ServiceSettings) -> dict[str, Any]:
    """How uvicorn serves a service: address, keep-alive, and which proxies' forwarded headers count."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "timeout_keep_alive": settings.http_keep_alive,
        # Without trusted proxies the headers are not read at all: uvicorn's own default would
        # believe any local process.
        "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": settings.forwarded_allow_ips or None,
    }


def serve(create_app: Callable[..., FastAPI], settings: ServiceSettings) -> None:
    """Run the service with uvicorn on the configured address (the services' `__main__`): the app
    `create_app(settings)` in this process, or `settings.workers` processes sharing the port, each
    building its app from the same environment."""
    import uvicorn

    options = uvicorn_options(settings)
    if settings.workers > 1:
        target = f"{create_app.__module__}:{create_app.__qualname__}"
        uvicorn.run(target, factory=True, workers=settings.workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)
