"""What zufi's endpoints share: the routing index, the area search, the route signer, the rate limiter."""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from joserfc.jwk import RSAKey
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ozg_common.db import Database
from ozg_common.outbox import Outbox
from ozg_zufi.areas.search import AreaSearch
from ozg_zufi.catalogue.sync import OfferSync
from ozg_zufi.models import Area, Authority, Destination, PostalCode, Responsibility, Service
from ozg_zufi.routing.answers import RouteAnswers
from ozg_zufi.routing.index import RoutingIndex
from ozg_zufi.routing.signatures import RouteSigner
from ozg_zufi.settings import ZufiSettings

logger = logging.getLogger(__name__)

_PENDING = "zufi_after_commit"


@dataclass
class Zufi:
    """The running service's in-memory state, rebuilt from the database it mirrors."""

    settings: ZufiSettings
    database: Database
    outbox: Outbox
    signing_key: RSAKey
    signer: RouteSigner
    answers: RouteAnswers
    index: RoutingIndex = field(default_factory=RoutingIndex)
    search: AreaSearch = field(default_factory=lambda: AreaSearch([], {}))
    demo_key: dict[str, Any] | None = None
    offers: OfferSync = field(default_factory=OfferSync)
    _reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _fingerprint: tuple[Any, ...] = ()

    async def reload(self) -> None:
        """Rebuild the index from the database and swap it in whole."""
        async with self._reload_lock:
            async with self.database.sessionmaker() as session:
                fingerprint = await database_fingerprint(session)
                index = await RoutingIndex.load(session)
            # Building the search forms is CPU work: off the loop, so requests keep flowing.
            search = await asyncio.to_thread(AreaSearch, list(index.areas.values()), index.postal_codes)
            self.index, self.search, self._fingerprint = index, search, fingerprint
        # A reload may follow changes that reach no admin endpoint here: recompute every offer.
        self.offers.request_all()
        logger.info(
            "routing index loaded",
            extra={"areas": len(index.areas), "authorities": len(index.authorities)},
        )

    async def refresh_forever(self) -> None:
        """Pick up changes other replicas or an import made (this replica patches its own at once)."""
        while True:
            await asyncio.sleep(self.settings.index_refresh_interval)
            async with self.database.sessionmaker() as session:
                changed = await database_fingerprint(session) != self._fingerprint
            if changed:
                await self.reload()


async def database_fingerprint(session: AsyncSession) -> tuple[Any, ...]:
    """Changes whenever a row the index mirrors is written or deleted (one cheap query)."""
    tables = (Area, PostalCode, Service, Authority, Destination, Responsibility)
    counts = [select(func.count()).select_from(table).scalar_subquery() for table in tables]
    stamped = (Service, Authority, Destination, Responsibility)
    latest = [select(func.max(table.updated_at)).scalar_subquery() for table in stamped]
    row = (await session.execute(select(*counts, *latest))).one()
    return tuple(row)


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


async def current_zufi(request: Request) -> Zufi:
    zufi: Zufi = request.app.state.zufi
    return zufi


ZufiDep = Annotated[Zufi, Depends(current_zufi)]
