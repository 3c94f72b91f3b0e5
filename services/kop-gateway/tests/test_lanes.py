"""A destination's lane earns its concurrency: a hanging endpoint holds two slots, not its limit."""

import itertools
import time

import pytest

from ozg_kop_gateway.deliveries.lanes import INITIAL_WINDOW, CircuitState, Lane, LaneLimits

LIMITS = LaneLimits(concurrency=12, rate=1000, burst=1000, failure_threshold=50, cooldown=30)


class Clock:
    """A monotonic clock the test moves on by hand, one millisecond per reading."""

    def __init__(self) -> None:
        self._ticks = itertools.count(time.monotonic(), 0.001)

    def __call__(self) -> float:
        return next(self._ticks)


def one_request(lane: Lane, clock: Clock, *, status: int | None, reached: bool = True) -> None:
    """Start a request and finish it before the next one starts."""
    started = clock()
    lane.start(started)
    succeeded = status is not None and 200 <= status < 300
    lane.finish(reached=reached, succeeded=succeeded, now=clock(), started=started, status=status)


def full_window(clock: Clock) -> Lane:
    lane = Lane(LIMITS)
    for _ in range(20):
        one_request(lane, clock, status=204)
    assert lane.window == LIMITS.concurrency
    return lane


def test_a_new_destination_gets_two_requests_until_it_answers() -> None:
    lane = Lane(LIMITS)
    now = time.monotonic()
    assert lane.room(now) == INITIAL_WINDOW == 2
    for _ in range(INITIAL_WINDOW):
        lane.start(now)
    # An endpoint that never answers keeps these two; nothing more is started for it.
    assert lane.room(now + 1) == 0


def test_each_success_allows_one_more_up_to_the_limit_and_a_failure_halves_it() -> None:
    clock = Clock()
    lane = full_window(clock)
    assert lane.room(clock()) == LIMITS.concurrency

    one_request(lane, clock, status=None)  # a timeout
    assert lane.room(clock()) == LIMITS.concurrency // 2

    one_request(lane, clock, status=None, reached=False)  # refused before sending: not the endpoint's doing
    assert lane.room(clock()) == LIMITS.concurrency // 2

    for _ in range(5):
        one_request(lane, clock, status=503)
    assert lane.room(clock()) == 1, "a failing endpoint keeps one request to find out when it is back"


def test_failures_of_requests_in_flight_together_halve_the_window_once() -> None:
    clock = Clock()
    lane = full_window(clock)
    started = clock()
    for _ in range(LIMITS.concurrency):
        lane.start(started)
    # The endpoint hangs: all twelve time out, one after another.
    for _ in range(LIMITS.concurrency):
        lane.finish(reached=True, succeeded=False, now=clock(), started=started, status=None)
    assert lane.window == LIMITS.concurrency // 2

    # A request started after that halving failing too is the next round trip's news.
    one_request(lane, clock, status=None)
    assert lane.window == LIMITS.concurrency // 4

    # Requests started before the second halving but finishing after it do not halve again.
    early = clock()
    lane.start(early)
    lane.start(early)
    one_request(lane, clock, status=502)
    assert lane.window == LIMITS.concurrency // 8
    for _ in range(2):
        lane.finish(reached=True, succeeded=False, now=clock(), started=early, status=None)
    assert lane.window == LIMITS.concurrency // 8


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 413, 422])
def test_a_client_error_answer_leaves_the_window_as_it_is(status: int) -> None:
    clock = Clock()
    lane = full_window(clock)
    for _ in range(3):
        one_request(lane, clock, status=status)
    assert lane.room(clock()) == LIMITS.concurrency


@pytest.mark.parametrize("status", [None, 408, 429, 500, 502, 503, 504])
def test_overload_halves_the_window(status: int | None) -> None:
    clock = Clock()
    lane = full_window(clock)
    one_request(lane, clock, status=status)
    assert lane.room(clock()) == LIMITS.concurrency // 2


def test_the_breaker_still_counts_client_errors() -> None:
    clock = Clock()
    lane = Lane(LaneLimits(concurrency=12, rate=1000, burst=1000, failure_threshold=3, cooldown=30))
    one_request(lane, clock, status=204)
    window = lane.window
    for _ in range(3):
        one_request(lane, clock, status=404)
    assert lane.state(clock()) is CircuitState.OPEN
    assert lane.window == window
