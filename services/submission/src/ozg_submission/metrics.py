"""submission's own Prometheus counters."""

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter


@dataclass
class SubmissionMetrics:
    """submission's own counters, on the service's registry."""

    registry: CollectorRegistry
    submissions: Counter = field(init=False)
    retention: Counter = field(init=False)
    token_throttled: Counter = field(init=False)
    decisions_refused: Counter = field(init=False)

    def __post_init__(self) -> None:
        self.submissions = Counter(
            "submissions_total",
            "Submissions by origin and resulting status",
            ["origin", "status"],
            registry=self.registry,
        )
        self.token_throttled = Counter(
            "token_requests_throttled_total",
            "Token requests refused because failed attempts used up a ration",
            ["limit"],
            registry=self.registry,
        )
        self.decisions_refused = Counter(
            "gateway_decisions_refused_total",
            "Decisions announced by kop-gateway whose SET did not verify: not logged, the event parked",
            ["reason"],
            registry=self.registry,
        )
        self.retention = Counter(
            "retention_actions_total",
            "Reminders, auto-rejections and deletions",
            ["action"],
            registry=self.registry,
        )
