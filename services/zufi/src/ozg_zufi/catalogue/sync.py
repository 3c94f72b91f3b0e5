"""The queue and status of the job that keeps every destination's service list current (per replica).

Admin changes ask for the services they touch once they have committed; an index reload asks for
every service. Requests made while a run is busy coalesce into the next run.
"""

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from ozg_zufi.catalogue.schemas import DestinationSyncStatus, SyncRun
from ozg_zufi.models import utcnow


@dataclass
class OfferSync:
    """Which services wait to have their destinations recomputed, and how the runs went."""

    pending: set[str] = field(default_factory=set)
    pending_all: bool = False
    current: SyncRun | None = None
    last: SyncRun | None = None
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def request(self, leika_keys: Iterable[str]) -> None:
        self.pending.update(leika_keys)
        self._wakeup.set()

    def request_all(self) -> None:
        self.pending_all = True
        self._wakeup.set()

    async def next_run(self) -> SyncRun:
        """Wait for a request, then start a run over everything asked for so far."""
        while not (self.pending or self.pending_all):
            self._wakeup.clear()
            await self._wakeup.wait()
        services = None if self.pending_all else sorted(self.pending)
        self.pending, self.pending_all = set(), False
        self.current = SyncRun(services=services, started_at=utcnow())
        return self.current

    def finished(self, run: SyncRun, error: str | None = None) -> None:
        run.finished_at, run.error = utcnow(), error
        self.current, self.last = None, run

    def status(self) -> DestinationSyncStatus:
        pending = bool(self.pending or self.pending_all)
        return DestinationSyncStatus(
            state="running" if self.current else "pending" if pending else "idle",
            pending_services=None if self.pending_all else sorted(self.pending),
            current=self.current,
            last=self.last,
        )
