"""Delivery metrics, per destination, on the service's Prometheus registry."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
