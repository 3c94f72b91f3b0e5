"""Delivery metrics, per destination, on the service's Prometheus registry."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ozg_common.db import Database
from ozg_kop_gateway.deliveries import repository
from ozg_kop_gateway.models import DeliveryState


class DeliveryMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            "kop_delivery_attempts_total",
            "Delivery attempts by destination and result (success, failure, refused)",
            ["destination", "result"],
            registry=registry,
        )
        self.succeeded = Counter(
            "kop_deliveries_succeeded_total", "Deliveries answered 2xx", ["destination"], registry=registry
        )
        self.dead_lettered = Counter(
            "kop_deliveries_dead_lettered_total",
            "Deliveries given up after their retry horizon (or 410 Gone)",
            ["destination"],
            registry=registry,
        )
        self.attempt_seconds = Histogram(
            "kop_delivery_attempt_duration_seconds",
            "Latency of delivery attempts",
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.circuit_open = Gauge(
            "kop_destination_circuit_open",
            "1 while a destination's circuit breaker is open or half-open",
            ["destination"],
            registry=registry,
        )
        self.in_flight = Gauge("kop_deliveries_in_flight", "Attempts running now", registry=registry)
        self.pending = Gauge(
            "kop_deliveries_pending",
            "Deliveries waiting for their first attempt or a retry (the retry backlog); counted in the "
            "shared database, so every replica reports the same value: aggregate with max, not sum",
            ["destination"],
            registry=registry,
        )
        self.dead_letters = Gauge(
            "kop_dead_letters",
            "Dead-lettered deliveries not replayed yet (counted in the shared database, like "
            "kop_deliveries_pending)",
            ["destination"],
            registry=registry,
        )

    async def refresh_backlog(self, database: Database) -> None:
        """Count the waiting deliveries per destination at scrape time, from the database.

        The database, not this replica's memory, knows the backlog: any replica may hold a due row.
        """
        async with database.sessionmaker() as session:
            rows = await repository.backlog(session)
        # Replaced in one go (no await in between): a destination whose backlog drained disappears
        # instead of keeping its last count.
        self.pending.clear()
        self.dead_letters.clear()
        for state, destination_id, count in rows:
            gauge = self.pending if state == DeliveryState.PENDING else self.dead_letters
            gauge.labels(destination_id).set(count)
