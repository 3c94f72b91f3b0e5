"""Token buckets in memory: `burst` at once per key, refilled at `rate` per second."""

import math
import time
from dataclasses import dataclass

_MAX_KEYS = 100_000


@dataclass(frozen=True, slots=True)
class Quota:
    """The state of one key's bucket after a request: allowed or not, and when to come back."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    """Seconds until a refused request may be retried, or until an allowed bucket is full again."""

    def headers(self) -> list[tuple[bytes, bytes]]:
        """`RateLimit-*` answer headers, with `Retry-After` where the request was refused."""
        headers = [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(self.remaining).encode()),
            (b"ratelimit-reset", str(self.reset).encode()),
        ]
        if not self.allowed:
            headers.append((b"retry-after", str(self.reset).encode()))
        return headers


class TokenBuckets:
    """One bucket per key, kept per process; full buckets are forgotten when too many are held."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> Quota:
        """Take a token from `key`'s bucket if it has one."""
        return self._quota(key, consume=True)

    def peek(self, key: str) -> Quota:
        """Whether `key`'s bucket has a token, without taking it."""
        return self._quota(key, consume=False)

    def give(self, key: str) -> None:
        """Return a token taken from `key`'s bucket for a request that, in the end, was not to be charged."""
        now = time.monotonic()
        tokens, stamp = self._buckets.get(key, (float(self.burst), now))
        self._buckets[key] = (min(float(self.burst), tokens + (now - stamp) * self.rate + 1.0), now)

    def _quota(self, key: str, *, consume: bool) -> Quota:
        now = time.monotonic()
        tokens, stamp = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - stamp) * self.rate)
        allowed = tokens >= 1.0
        if consume:
            if allowed:
                tokens -= 1.0
            if len(self._buckets) >= _MAX_KEYS and key not in self._buckets:
                self._forget_full(now)
            self._buckets[key] = (tokens, now)
        missing = (1.0 - tokens) if not allowed else (self.burst - tokens)
        return Quota(allowed, self.burst, int(tokens), math.ceil(missing / self.rate) if missing > 0 else 0)

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled completely holds no information.
        full_after = self.burst / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
