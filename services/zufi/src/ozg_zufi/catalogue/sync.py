"""The queue and status of the job that keeps every destination's service list current (per replica).

Admin changes ask for the services they touch once they have committed; an index reload asks for
the services it finds routed differently; start-up asks for every service. Requests made while a
run is busy, or while another replica's run holds the job, coalesce into the next run.
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
    heal: bool = False
    """The next run recomputes even what a run for the same routing data already covered."""
    waiting_for_another_replica: bool = False
    current: SyncRun | None = None
    last: SyncRun | None = None
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def request(self, leika_keys: Iterable[str]) -> None:
        self.pending.update(leika_keys)
        self._wakeup.set()

    def request_all(self, *, heal: bool = False) -> None:
        self.pending_all = True
        self.heal = self.heal or heal
        self._wakeup.set()

    def request_again(self, run: SyncRun, *, heal: bool) -> None:
        """Ask again for what a failed run was to do, so its lists are not left stale."""
        if run.services is None:
            self.request_all(heal=heal)
        else:
            self.heal = self.heal or heal
            self.request(run.services)

    async def requested(self) -> None:
        """Return once something is asked for."""
        while not (self.pending or self.pending_all):
            self._wakeup.clear()
            await self._wakeup.wait()

    def start(self) -> tuple[SyncRun, bool]:
        """A run over everything asked for so far, and whether it heals (see `heal`)."""
        services = None if self.pending_all else sorted(self.pending)
        heal = self.heal
        self.pending, self.pending_all, self.heal = set(), False, False
        self.current = SyncRun(services=services, started_at=utcnow())
        return self.current, heal

    def finished(self, run: SyncRun, error: str | None = None) -> None:
        run.finished_at, run.error = utcnow(), error
        self.current, self.last = None, run

    def status(self) -> DestinationSyncStatus:
        pending = bool(self.pending or self.pending_all)
        return DestinationSyncStatus(
            state="running" if self.current else "pending" if pending else "idle",
            pending_services=None if self.pending_all else sorted(self.pending),
            waiting_for_another_replica=self.waiting_for_another_replica,
            current=self.current,
            last=self.last,
        )
