"""Prometheus metrics per service, on a registry of the app's own."""

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ServiceMetrics:
    """The metrics every service exposes; services register their own on `registry`."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.outbox_backlog = Gauge(
            "outbox_backlog", "Outbox rows not yet published to Kafka", registry=self.registry
        )
        self.events_published = Gauge(
            "events_published_total", "Events relayed to Kafka since start", registry=self.registry
        )
        self.events_consumed = Gauge(
            "events_consumed_total",
            "Events consumed since start",
            ["group"],
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "consumer_lag",
            "Records behind the partition's high watermark",
            ["group", "partition"],
            registry=self.registry,
        )
        self.refreshers: list[Callable[[], Awaitable[None]]] = []

    async def render(self) -> bytes:
        for refresh in self.refreshers:
            await refresh()
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every request by its route template, not its raw path."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(scope["method"], template, str(status)).inc()
            self.metrics.latency.labels(scope["method"], template).observe(time.perf_counter() - started)


def install_metrics(app: FastAPI, metrics: ServiceMetrics) -> None:
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        return Response(await metrics.render(), media_type=CONTENT_TYPE_LATEST)
