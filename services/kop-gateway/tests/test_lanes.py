"""A destination's lane earns its concurrency: a hanging endpoint holds two slots, not its limit."""

import time

from ozg_kop_gateway.deliveries.lanes import INITIAL_WINDOW, Lane, LaneLimits

LIMITS = LaneLimits(concurrency=12, rate=1000, burst=1000, failure_threshold=50, cooldown=30)


def test_a_new_destination_gets_two_requests_until_it_answers() -> None:
    lane = Lane(LIMITS)
    now = time.monotonic()
    assert lane.room(now) == INITIAL_WINDOW == 2
    for _ in range(INITIAL_WINDOW):
        lane.start(now)
    # An endpoint that never answers keeps these two; nothing more is started for it.
    assert lane.room(now + 1) == 0


def test_each_success_allows_one_more_up_to_the_limit_and_a_failure_halves_it() -> None:
    lane = Lane(LIMITS)
    now = time.monotonic()
    for _ in range(20):
        lane.start(now)
        lane.finish(reached=True, succeeded=True, now=now)
    assert lane.room(now) == LIMITS.concurrency

    lane.start(now)
    lane.finish(reached=True, succeeded=False, now=now)
    assert lane.room(now) == LIMITS.concurrency // 2

    lane.start(now)
    lane.finish(reached=False, succeeded=False, now=now)  # refused before sending: not the endpoint's doing
    assert lane.room(now) == LIMITS.concurrency // 2

    for _ in range(5):
        lane.start(now)
        lane.finish(reached=True, succeeded=False, now=now)
    assert lane.room(now) == 1, "a failing endpoint keeps one request to find out when it is back"
