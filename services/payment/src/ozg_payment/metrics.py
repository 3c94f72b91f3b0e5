"""What operators watch besides the shared HTTP and Kafka metrics."""

from prometheus_client import CollectorRegistry, Counter, Gauge


class PaymentMetrics:
    """Transitions, provider trouble, and late provider results that need a human."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.transitions = Counter(
            "payment_transitions_total",
            "Transactions that reached a final state",
            ["status"],
            registry=registry,
        )
        self.provider_errors = Counter(
            "payment_provider_errors_total",
            "Calls to the payment service provider that failed",
            ["operation"],
            registry=registry,
        )
        self.late_provider_results = Counter(
            "payment_late_provider_results_total",
            "Provider results that contradict an already final state (e.g. PAYED after FAILED)",
            ["status"],
            registry=registry,
        )
        self.pending = Gauge("payment_pending_transactions", "Transactions still INITIAL", registry=registry)
        self.reconciliation_required = Gauge(
            "payment_reconciliation_required",
            "Transactions whose provider result contradicts their final state; an operator must act",
            registry=registry,
        )
