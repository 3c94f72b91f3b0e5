"""Waiting and stopping in bounded time, even where a cancellation gets lost.

On Python 3.11 `asyncio.wait_for` returns its awaitable's result when a cancellation meets an
awaitable that has just finished: the caller never sees the cancellation, and a background loop
around such a wait runs on after its service has stopped it. Linted away (`asyncio.wait_for` is
a banned API); what remains is caught at shutdown by cancelling again.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

RECANCEL_INTERVAL = 1.0
"""Seconds between further cancellations of work that goes on after its first one."""


async def wait_until_set(event: asyncio.Event, seconds: float) -> bool:
    """Wait for `event` at most `seconds`; returns whether it is set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()


async def stop_within(cancel: Callable[[bool], None], stopped: Callable[[], bool], *, limit: float) -> bool:
    """Call `cancel` until `stopped()`: once, and after a quarter of `limit` again every second, in
    case the first cancellation was lost (`cancel(True)`: a repeat). Gives up after `limit` seconds;
    returns whether it stopped.

    A cancellation of the caller meanwhile is held back until then (at most `limit` seconds): the
    caller is the one that must know whether what it stops has stopped.
    """
    loop = asyncio.get_running_loop()
    began = loop.time()
    cancel_at = began
    interrupted = False
    while not stopped() and loop.time() - began < limit:
        if loop.time() >= cancel_at:
            cancel(cancel_at != began)
            cancel_at = loop.time() + (limit / 4 if cancel_at == began else RECANCEL_INTERVAL)
        try:
            await asyncio.sleep(0.02)
        except asyncio.CancelledError:
            interrupted = True
    if interrupted:
        raise asyncio.CancelledError
    return stopped()


async def stop_tasks(tasks: Iterable[asyncio.Task[Any]], *, limit: float) -> list[asyncio.Task[Any]]:
    """Cancel `tasks` (again if they go on, see `stop_within`); returns those still running after
    `limit` seconds. The others' outcomes are collected, so none is reported as unretrieved."""
    tasks = list(tasks)

    def cancel(again: bool) -> None:
        if again:
            going_on = [task for task in tasks if not task.done()]
            logger.warning("cancelling again", extra={"tasks": "; ".join(map(awaiting_at, going_on))})
        for task in tasks:
            task.cancel()

    await stop_within(cancel, lambda: all(task.done() for task in tasks), limit=limit)
    await asyncio.gather(*(task for task in tasks if task.done()), return_exceptions=True)
    return [task for task in tasks if not task.done()]


def await_chain(task: asyncio.Task[Any]) -> str:
    """A task and the chain of coroutines it awaits (`Task.print_stack` shows only the outermost)."""
    places = (f'  File "{file}", line {line}, in {name}' for file, line, name in _chain(task))
    return "\n".join([repr(task), *places])


def awaiting_at(task: asyncio.Task[Any]) -> str:
    """Where a task waits, on one line: its name and the innermost place outside asyncio itself."""
    places = [place for place in _chain(task) if not place[0].startswith(_ASYNCIO)] or _chain(task)
    file, line, name = places[-1] if places else ("?", 0, "?")
    return f"{task.get_name()} ({Path(file).name}:{line} in {name})"


_ASYNCIO = str(Path(asyncio.__file__).parent)


def _chain(task: asyncio.Task[Any]) -> list[tuple[str, int, str]]:
    places = []
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is not None:
            places.append((frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return places
