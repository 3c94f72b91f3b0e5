"""When to try a failed delivery again: the schedule, its jitter, and the receiver's Retry-After."""

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from ozg_kop_gateway.settings import KopGatewaySettings

SLOW_DOWN_STATUSES = frozenset({429, 502, 503, 504})
"""Answers whose Retry-After header is honoured (Standard Webhooks: "slow down")."""


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


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
