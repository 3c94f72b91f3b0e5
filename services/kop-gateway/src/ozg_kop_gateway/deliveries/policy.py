"""When to try a failed delivery again: the schedule, its jitter, and the receiver's Retry-After."""

import random
from dataclasses import dataclass

from ozg_kop_gateway.settings import KopGatewaySettings


@dataclass(frozen=True)
class RetryPolicy:
    """Delays after the 1st, 2nd, … failure, then a fixed interval, each with ± jitter."""

    schedule: tuple[float, ...]
    interval: float
    jitter: float
    max_retry_after: float

    @classmethod
    def from_settings(cls, settings: KopGatewaySettings) -> "RetryPolicy":
        return cls(
            schedule=tuple(settings.retry_schedule),
            interval=settings.retry_interval,
            jitter=settings.retry_jitter,
            max_retry_after=settings.max_retry_after,
        )

    def delay(self, failed_attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the `failed_attempts`-th failure."""
        index = failed_attempts - 1
        base = self.schedule[index] if 0 <= index < len(self.schedule) else self.interval
        delay = base * (1 + random.uniform(-self.jitter, self.jitter))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return max(delay, 0.0)
