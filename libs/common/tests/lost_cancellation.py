"""Work that loses a cancellation, for the tests of stopping it."""

import asyncio
import contextlib
from collections.abc import Callable


async def loses_first_cancellation() -> None:
    """Loops as a wait that swallowed its cancellation would (3.11's asyncio.wait_for): the first
    cancellation is lost, the next one ends it."""
    lost = False
    while True:
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            if lost:
                raise
            lost = True


async def ignores_cancellation(released: Callable[[], bool]) -> None:
    """Swallows every cancellation until `released()`, as a stuck loop would."""
    while not released():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.01)
