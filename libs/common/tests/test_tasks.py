"""Background work stops in bounded time, even when a cancellation is lost on its way, and what
will not stop is named with where it waits."""

import asyncio
import time
from pathlib import Path

import messaging_worker as worker
import pytest
from lost_cancellation import ignores_cancellation, loses_first_cancellation
from sqlalchemy.exc import OperationalError

from ozg_common.service import ServiceRuntime
from ozg_common.settings import ServiceSettings
from ozg_common.tasks import stop_tasks, stop_within, wait_until_set


async def test_a_loop_woken_as_it_is_cancelled_stops() -> None:
    wakeup = asyncio.Event()

    async def loop() -> None:
        while True:
            wakeup.clear()
            await wait_until_set(wakeup, 30)

    running = asyncio.create_task(loop())
    await asyncio.sleep(0.05)
    wakeup.set()
    running.cancel()
    done, _ = await asyncio.wait([running], timeout=2)
    assert done, "the loop ran on after its cancellation"


async def test_wait_until_set_tells_a_wake_up_from_a_timeout() -> None:
    event = asyncio.Event()
    assert not await wait_until_set(event, 0.01)
    event.set()
    assert await wait_until_set(event, 5)


async def test_a_task_that_lost_its_cancellation_is_cancelled_again() -> None:
    task = asyncio.create_task(loses_first_cancellation())
    await asyncio.sleep(0.05)
    began = time.monotonic()
    assert await stop_tasks([task], limit=0.4) == []
    assert task.cancelled()
    assert time.monotonic() - began < 0.4


async def test_a_task_that_never_stops_is_given_up_after_the_limit() -> None:
    release = asyncio.Event()
    stubborn = asyncio.create_task(ignores_cancellation(release.is_set))
    obedient = asyncio.create_task(asyncio.sleep(60))
    await asyncio.sleep(0.05)  # both started
    try:
        began = time.monotonic()
        assert await stop_tasks([stubborn, obedient], limit=0.5) == [stubborn]
        assert 0.5 <= time.monotonic() - began < 2
        assert obedient.cancelled()
    finally:
        release.set()
        await stubborn


async def test_the_stopper_finishes_its_wait_before_it_passes_on_its_own_cancellation() -> None:
    release = asyncio.Event()
    stubborn = asyncio.create_task(ignores_cancellation(release.is_set))
    stopper = asyncio.create_task(stop_within(lambda _: stubborn.cancel(), stubborn.done, limit=0.5))
    await asyncio.sleep(0.05)
    stopper.cancel()
    await asyncio.sleep(0.1)
    assert not stopper.done(), "a cancelled stopper must not leave what it stops unwatched"
    with pytest.raises(asyncio.CancelledError):
        await stopper
    release.set()
    await stubborn


class _Settings(ServiceSettings):
    stop_timeout: float = 0.5


async def test_a_service_names_the_background_task_that_would_not_stop(tmp_path: Path) -> None:
    runtime = ServiceRuntime(
        settings=_Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'stop.sqlite3'}"),
        metadata=worker.metadata,
        migrations=tmp_path,
    )
    release = asyncio.Event()
    runtime.spawn("lost-once", loses_first_cancellation)
    runtime.spawn("deaf", lambda: ignores_cancellation(release.is_set))
    await asyncio.sleep(0.05)
    try:
        named = r"did not stop within 0.5 s: deaf \(lost_cancellation.py:\d+ in ignores_cancellation\)$"
        with pytest.raises(RuntimeError, match=named):
            await runtime.stop()
    finally:
        release.set()


async def test_a_task_that_loses_the_database_is_reported_in_one_line_and_restarted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = ServiceRuntime(
        settings=_Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'outage.sqlite3'}"),
        metadata=worker.metadata,
        migrations=tmp_path,
    )
    runs = 0

    async def relay() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            refused = ConnectionRefusedError(111, "Connect call failed")
            raise OperationalError("connect", None, refused) from refused

    runtime.spawn("outbox-relay", relay, restart_delay=0.01)
    for _ in range(100):
        if runs == 2:
            break
        await asyncio.sleep(0.01)
    await runtime.stop()
    assert runs == 2, "the task was not restarted after the outage"
    (record,) = [r for r in caplog.records if "outbox-relay" in r.getMessage()]
    assert record.levelname == "WARNING"
    assert record.getMessage() == (
        "outbox-relay: database unreachable ([Errno 111] Connect call failed); retrying in 0.01 s"
    )
    assert record.exc_info is None
