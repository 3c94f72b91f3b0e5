"""Per-destination lanes: bounded concurrency, a token-bucket rate limit and a circuit breaker.

The worker only claims deliveries for destinations whose lane has room, so a slow or broken
municipality holds at most its own slots while every other destination keeps flowing. A lane
earns its concurrency (slow start, as TCP's window): it begins with `INITIAL_WINDOW` requests in
flight, each success allows one more up to the destination's limit, each failure halves it. An
endpoint that hangs from the start therefore holds two of the worker's slots until its requests
time out, not its whole limit. As TCP halves once per round trip, failures of requests that were
in flight together halve the window once: only a request started after the last halving halves it
again. A 4xx other than 408/429 is a live endpoint's answer about that one request, not a sign of
overload: it leaves the window as it is (the circuit breaker still counts it).
"""

import time
from dataclasses import dataclass, field
from enum import StrEnum

from ozg_kop_gateway.settings import KopGatewaySettings

INITIAL_WINDOW = 2
"""Requests a lane may have in flight before its destination has answered any."""

OVERLOAD_4XX = frozenset({408, 429})
"""Client-error answers that say the endpoint is busy (Request Timeout, Too Many Requests)."""


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class LaneLimits:
    concurrency: int
    rate: float
    burst: int
    failure_threshold: int
    cooldown: float

    @classmethod
    def from_settings(cls, settings: KopGatewaySettings) -> "LaneLimits":
        return cls(
            concurrency=settings.destination_concurrency,
            rate=settings.destination_rate_limit,
            burst=max(1, settings.destination_rate_burst),
            failure_threshold=max(1, settings.breaker_failure_threshold),
            cooldown=settings.breaker_cooldown,
        )


@dataclass
class Lane:
    """One destination's share of the worker."""

    limits: LaneLimits
    in_flight: int = 0
    consecutive_failures: int = 0
    opened_at: float | None = None
    probing: bool = False
    tokens: float = field(init=False)
    window: int = field(init=False)
    """Requests it may have in flight now: earned by successes, halved by overload."""
    halved_at: float | None = None
    """When the window was last halved; failures of requests started until then do not halve it again."""
    refilled_at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = float(self.limits.burst)
        self.window = min(INITIAL_WINDOW, self.limits.concurrency)

    def state(self, now: float) -> CircuitState:
        if self.opened_at is None:
            return CircuitState.CLOSED
        if now - self.opened_at < self.limits.cooldown:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN

    def room(self, now: float) -> int:
        """How many deliveries this lane may start now."""
        self._refill(now)
        state = self.state(now)
        if state is CircuitState.OPEN:
            return 0
        if state is CircuitState.HALF_OPEN:
            return 1 if not self.probing and self.in_flight == 0 else 0
        return max(0, min(self.window - self.in_flight, int(self.tokens)))

    def start(self, now: float) -> None:
        if self.state(now) is CircuitState.HALF_OPEN:
            self.probing = True
        self.tokens -= 1
        self.in_flight += 1

    def finish(
        self, *, reached: bool, succeeded: bool, now: float, started: float, status: int | None
    ) -> None:
        """`reached`: an HTTP exchange was tried (refusals before sending do not trip the breaker);
        `started`: the clock the request was started at (as given to `start`); `status`: the
        answer's HTTP status, None if there was none (timeout, connection error)."""
        self.in_flight -= 1
        was_probe, self.probing = self.probing, False
        if not reached:
            return
        if succeeded:
            self.consecutive_failures = 0
            self.opened_at = None
            self.window = min(self.limits.concurrency, self.window + 1)
            return
        self.consecutive_failures += 1
        if _signals_overload(status) and (self.halved_at is None or started > self.halved_at):
            self.window = max(1, self.window // 2)
            self.halved_at = now
        if was_probe or self.consecutive_failures >= self.limits.failure_threshold:
            self.opened_at = now

    def idle(self, now: float) -> bool:
        return (
            self.in_flight == 0 and self.state(now) is CircuitState.CLOSED and self.consecutive_failures == 0
        )

    def _refill(self, now: float) -> None:
        self.tokens = min(float(self.limits.burst), self.tokens + (now - self.refilled_at) * self.limits.rate)
        self.refilled_at = now


def _signals_overload(status: int | None) -> bool:
    return status is None or not 400 <= status < 500 or status in OVERLOAD_4XX


class Lanes:
    """All lanes of this worker, created on first use and forgotten when idle."""

    def __init__(self, limits: LaneLimits) -> None:
        self.limits = limits
        self._lanes: dict[str, Lane] = {}

    def __getitem__(self, destination_id: str) -> Lane:
        lane = self._lanes.get(destination_id)
        if lane is None:
            lane = self._lanes[destination_id] = Lane(self.limits)
        return lane

    def get(self, destination_id: str) -> Lane | None:
        return self._lanes.get(destination_id)

    def blocked(self, now: float) -> list[str]:
        """Destinations that may not start anything now (full, rate-limited or circuit open)."""
        return [d for d, lane in self._lanes.items() if lane.room(now) == 0]

    def open_circuits(self, now: float) -> dict[str, CircuitState]:
        return {
            d: state
            for d, lane in self._lanes.items()
            if (state := lane.state(now)) is not CircuitState.CLOSED
        }

    def forget_idle(self, now: float) -> None:
        """Drop the lanes that hold nothing back any more."""
        for destination_id in [d for d, lane in self._lanes.items() if lane.idle(now)]:
            lane = self._lanes[destination_id]
            lane.room(now)
            if lane.tokens >= lane.limits.burst:
                del self._lanes[destination_id]
