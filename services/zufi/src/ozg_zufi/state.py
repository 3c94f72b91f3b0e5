"""zufi's app state (`ZufiState`, reached through `StateDep`): the routing index, the area search, the
route signer and its keys, the answer cache; patched after each commit, reloaded from the database."""

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ozg_common.db import Database
from ozg_common.outbox import Outbox
from ozg_common.service import ServiceRuntime
from ozg_zufi.areas.search import AreaSearch
from ozg_zufi.catalogue.sync import OfferSync
from ozg_zufi.metrics import ZufiMetrics
from ozg_zufi.routing.answers import RouteAnswers
from ozg_zufi.routing.index import RoutingIndex
from ozg_zufi.routing.repository import database_fingerprint
from ozg_zufi.routing.signatures import RouteSigner, SigningKeys
from ozg_zufi.settings import ZufiSettings

logger = logging.getLogger(__name__)

_PENDING = "zufi_after_commit"

Patch = Callable[[RoutingIndex], None]
"""A committed change, applied to the routing index in place."""


@dataclass
class ZufiState:
    """The running service's in-memory state, rebuilt from the database it mirrors."""

    settings: ZufiSettings
    signing_keys: SigningKeys
    signer: RouteSigner
    answers: RouteAnswers
    database: Database = field(init=False)
    outbox: Outbox = field(init=False)
    metrics: ZufiMetrics = field(init=False)
    index: RoutingIndex = field(default_factory=RoutingIndex)
    search: AreaSearch = field(default_factory=lambda: AreaSearch([], {}))
    demo_key: dict[str, Any] | None = None
    offers: OfferSync = field(default_factory=OfferSync)
    _reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _fingerprint: str | None = None
    _replay: list[Patch] | None = None

    @classmethod
    def build(cls, settings: ZufiSettings) -> "ZufiState":
        """The state of a new app: its signing keys loaded (created on first start), nothing indexed."""
        signing_keys = SigningKeys.load(settings.signing_key_path)
        signer = RouteSigner(
            signing_keys.current,
            settings.public_base_url,
            settings.submission_host,
            capacity=settings.signature_cache_size,
        )
        return cls(settings, signing_keys, signer, RouteAnswers(settings.route_cache_size))

    def attach(self, runtime: ServiceRuntime) -> None:
        """Use the runtime's database, outbox and metrics registry."""
        self.database = runtime.database
        self.outbox = runtime.outbox
        self.metrics = ZufiMetrics(runtime.metrics.registry)

    def patch_on_commit(self, session: AsyncSession, patch: Patch, recompute: Iterable[str] | None) -> None:
        """Once `session` commits: apply `patch` to the index and queue the recompute of the offers
        of the services in `recompute` (None: every one)."""

        def committed() -> None:
            patch(self.index)
            if self._replay is not None:
                self._replay.append(patch)
            if recompute is None:
                self.offers.request_all()
            else:
                self.offers.request(recompute)

        after_commit(session, committed)

    async def reload(self) -> str | None:
        """Rebuild the index from the database and swap it in whole; the fingerprint it is at."""
        async with self._reload_lock:
            return await self._reload()

    async def refresh(self) -> str | None:
        """Reload if the database moved on since the last load (another replica's change, an import,
        or this replica's own, which it patched in already); the fingerprint the index is at."""
        async with self._reload_lock:
            async with self.database.sessionmaker() as session:
                fingerprint = await database_fingerprint(session)
            if fingerprint == self._fingerprint:
                return fingerprint
            return await self._reload()

    async def _reload(self) -> str | None:
        """The new index's fingerprint; None (at no known one) if this replica's patches were replayed."""
        replay: list[Patch] = []
        self._replay = replay
        try:
            async with self.database.sessionmaker() as session:
                fingerprint: str | None = await database_fingerprint(session)
                index = await RoutingIndex.load(session)
            previous = self.index
            if index.areas == previous.areas and index.postal_codes == previous.postal_codes:
                search = self.search
            else:
                # Building the search forms is CPU work: off the loop, so requests keep flowing.
                search = await asyncio.to_thread(AreaSearch, list(index.areas.values()), index.postal_codes)
        finally:
            self._replay = None
        # A change this replica committed while the index loaded may be missing from it: applied
        # again, so its admin sees it at once. The database may hold a newer one still, so the
        # index is at no known fingerprint and the next refresh reads it again.
        for patch in replay:
            patch(index)
        if replay:
            fingerprint = None
        self.index, self.search, self._fingerprint = index, search, fingerprint
        self.metrics.index_reloads.inc()
        # What routes differently than in the index replaced (patched with this replica's own
        # changes) is what the reload brings: recompute the offers of just those services.
        changed = previous.services_routed_differently(index)
        if changed is None:
            self.offers.request_all()
        elif changed:
            self.offers.request(changed)
        logger.info(
            "routing index loaded",
            extra={"areas": len(index.areas), "authorities": len(index.authorities)},
        )
        return fingerprint

    async def refresh_forever(self) -> None:
        """Pick up changes other replicas or an import made (this replica patches its own at once)."""
        while True:
            await asyncio.sleep(self.settings.index_refresh_interval)
            await self.refresh()


def after_commit(session: AsyncSession, action: Callable[[], None]) -> None:
    """Run `action` once the session's transaction has committed (dropped on rollback)."""
    sync_session = session.sync_session
    if not event.contains(sync_session, "after_commit", _run_pending):
        event.listen(sync_session, "after_commit", _run_pending)
        event.listen(sync_session, "after_rollback", _drop_pending)
    session.info.setdefault(_PENDING, []).append(action)


def _run_pending(session: Session) -> None:
    for action in session.info.pop(_PENDING, []):
        action()


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


async def current_state(request: Request) -> ZufiState:
    """The app's `ZufiState` (a dependency)."""
    zufi: ZufiState = request.app.state.zufi
    return zufi


StateDep = Annotated[ZufiState, Depends(current_state)]
"""The app's `ZufiState`, as an endpoint parameter."""
