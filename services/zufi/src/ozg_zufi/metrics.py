"""zufi's own Prometheus metrics: how often the routing index is rebuilt and the service lists recomputed."""

from prometheus_client import CollectorRegistry, Counter

OUTCOMES = ("recomputed", "already_recomputed", "failed")


class ZufiMetrics:
    """Counters an operator watches to see that an admin change costs one reload and one recompute."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.index_reloads = Counter(
            "zufi_routing_index_reloads_total",
            "Rebuilds of this replica's routing index from the database",
            registry=registry,
        )
        self.offer_runs = Counter(
            "zufi_destination_sync_runs_total",
            "Runs of the job that recomputes the destinations' services, by outcome: recomputed, "
            "already_recomputed (another run covered the same data, nothing done) or failed",
            ["outcome"],
            registry=registry,
        )
        for outcome in OUTCOMES:
            self.offer_runs.labels(outcome)
