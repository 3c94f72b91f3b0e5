"""Which services a destination offers: those routing sends it, kept current in the background.

A destination's `services` is what `GET /v1/destinations/{id}` shows and what `DestinationChanged`
carries into the read models of submission (which refuses a submission for a service the destination
does not offer) and kop-gateway. So it must follow the catalogue and the responsibilities:

- a generated (demo) destination offers exactly the active services that routing resolves to it;
- an administered destination offers what its administrator declared plus what routing resolves to
  it; a deactivated service is dropped from every list.

Recomputing a Gemeinde-level service touches ~11,000 destinations, so admin changes only queue their
services (after commit) and this job rewrites the stale rows in batches, each batch with its events
in one transaction. An index reload (within `index_refresh_interval` of another replica's write)
queues the services it finds routed differently: that follows other replicas' changes and heals a
run they lost to a crash. Start-up queues every service, which also heals lists an older release
computed differently.

One replica runs the job at a time (a PostgreSQL advisory lock). Each run first brings its index up
to the database, then records the routing data's fingerprint and the services it covered
(`OfferRecompute`): a replica that learns of the same change by its own reload finds it done.
"""

import asyncio
import logging
import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_zufi.authorities.service import destination_changed
from ozg_zufi.catalogue import repository
from ozg_zufi.catalogue.schemas import SyncRun
from ozg_zufi.models import OfferRecompute, utcnow
from ozg_zufi.routing.index import RoutingIndex, ServiceEntry
from ozg_zufi.state import ZufiState

logger = logging.getLogger(__name__)

BATCH = 100
"""Destinations rewritten (and their events staged) per transaction; a batch's rows are computed
without a yield to the event loop, so it is kept small for the requests waiting meanwhile."""
PER_YIELD = 200
"""Gemeinden resolved, or rows compared, between two yields to the event loop (a few milliseconds)."""

RUN_LOCK = "destination-services"
"""The name of the job's lock (in zufi's own database; every replica takes the same)."""
RECORD = 1
"""The one row of `OfferRecompute`."""

Offered = dict[str, set[uuid.UUID]]
"""Per LeiKa key in scope: the destinations routing sends it to (only active services are keys)."""


async def routed_destinations(index: RoutingIndex, service: ServiceEntry) -> set[uuid.UUID]:
    """Every destination that `/v1/routes` answers for this service in some Gemeinde."""
    destinations: set[uuid.UUID] = set()
    for position, gemeinde in enumerate(list(index.chains)):
        resolution = index.resolve(service, gemeinde)
        if resolution is not None:
            destinations.add(resolution.destination.id)
        if position % PER_YIELD == 0:
            # Routes keep being answered while 11,000 Gemeinden are resolved.
            await asyncio.sleep(0)
    return destinations


async def offered_in(index: RoutingIndex, scope: set[str]) -> Offered:
    offered: Offered = {}
    for key in sorted(scope):
        service = index.services[key]
        if service.active:
            offered[key] = await routed_destinations(index, service)
    return offered


def offers(
    destination_id: uuid.UUID,
    current: Sequence[str],
    declared: Sequence[str],
    *,
    generated: bool,
    scope: set[str],
    offered: Offered,
) -> list[str]:
    """The destination's services once the keys in `scope` are recomputed (the others stay as they
    are): of those, each active one that it declared or routing sends it."""

    def wanted(key: str) -> bool:
        return key in offered and (key in declared or destination_id in offered[key])

    kept = [key for key in current if key not in scope or wanted(key)]
    added = [key for key in offered if wanted(key) and key not in kept]
    return sorted(kept + added) if generated else kept + added


def scope_of(index: RoutingIndex, run: SyncRun) -> set[str]:
    """The services the run judges: only those the index knows (one created by another replica a
    moment ago is left to the run that follows this replica's next reload)."""
    return set(index.services) if run.services is None else set(run.services) & index.services.keys()


async def sync_offers(zufi: ZufiState, index: RoutingIndex, run: SyncRun) -> None:
    """Rewrite and announce every destination whose services differ from what routing says."""
    scope = scope_of(index, run)
    offered = await offered_in(index, scope)
    stale = []
    async with zufi.database.sessionmaker() as session:
        async for partition in repository.destination_service_lists(session, per_partition=PER_YIELD):
            for destination_id, services, declared, generated in partition:
                new = offers(
                    destination_id, services, declared, generated=generated, scope=scope, offered=offered
                )
                if new != services:
                    stale.append(destination_id)
    stale.sort()
    run.destinations_to_change = len(stale)
    for start in range(0, len(stale), BATCH):
        batch = stale[start : start + BATCH]
        async with zufi.database.transaction() as session:
            run.destinations_changed += await _rewrite(session, zufi, batch, scope, offered)


async def _rewrite(
    session: AsyncSession, zufi: ZufiState, ids: Sequence[uuid.UUID], scope: set[str], offered: Offered
) -> int:
    # Locked and compared again: an admin write may have landed since the rows were read.
    events = []
    for destination, authority in await repository.destinations_for_update(session, ids):
        services = offers(
            destination.id,
            destination.services,
            destination.declared_services,
            generated=authority.generated,
            scope=scope,
            offered=offered,
        )
        if services != destination.services:
            # `updated_at` stays: see `Destination.updated_at`.
            destination.services = services
            events.append(destination_changed(authority, destination))
    await repository.write(session)
    await zufi.outbox.publish_many(session, events)
    return len(events)


async def already_recomputed(session: AsyncSession, fingerprint: str, services: list[str] | None) -> bool:
    """Whether finished runs recomputed `services` (None: every one) from the routing data `fingerprint`."""
    record = await repository.get_offer_recompute(session, RECORD)
    if record is None or record.fingerprint != fingerprint:
        return False
    return record.services is None or (services is not None and set(services) <= set(record.services))


async def record_recompute(session: AsyncSession, fingerprint: str, services: list[str] | None) -> None:
    """Note that `services` (None: every one) are now recomputed from the routing data `fingerprint`."""
    record = await repository.get_offer_recompute(session, RECORD)
    if record is None:
        record = OfferRecompute(id=RECORD)
        await repository.add_offer_recompute(session, record)
    elif record.fingerprint == fingerprint and services is not None:
        services = None if record.services is None else sorted(set(record.services) | set(services))
    record.fingerprint, record.services, record.finished_at = fingerprint, services, utcnow()


def one_replica_at_a_time(zufi: ZufiState) -> AbstractAsyncContextManager[None]:
    """Hold the job for this replica while the block runs (the status says when another holds it)."""

    def waiting(now: bool) -> None:
        zufi.offers.waiting_for_another_replica = now

    return zufi.database.exclusively(RUN_LOCK, waiting=waiting)


async def run_once(zufi: ZufiState) -> None:
    """Wait for requests, then hold the job and recompute what they ask for from the current data."""
    sync = zufi.offers
    await sync.requested()
    async with one_replica_at_a_time(zufi):
        # Computed from the database's data as of now, never from an index another replica's change
        # has not reached yet: what the run records is then true.
        fingerprint = await zufi.refresh()
        index = zufi.index
        run, heal = sync.start()
        try:
            # An index at no known fingerprint (see `ZufiState.reload`) neither trusts nor leaves a record.
            if fingerprint is not None and not heal:
                async with zufi.database.sessionmaker() as session:
                    run.already_recomputed = await already_recomputed(session, fingerprint, run.services)
            if not run.already_recomputed:
                await sync_offers(zufi, index, run)
                if fingerprint is not None:
                    covered = None if run.services is None else sorted(scope_of(index, run))
                    async with zufi.database.transaction() as session:
                        await record_recompute(session, fingerprint, covered)
        except Exception as exc:
            sync.finished(run, error=repr(exc))
            zufi.metrics.offer_runs.labels("failed").inc()
            sync.request_again(run, heal=heal)
            raise
        sync.finished(run)
    zufi.metrics.offer_runs.labels("already_recomputed" if run.already_recomputed else "recomputed").inc()
    if run.destinations_to_change:
        logger.info(
            "destination services recomputed",
            extra={"services": run.services or "all", "destinations": run.destinations_changed},
        )


async def keep_offers_current(zufi: ZufiState) -> None:
    """The background job: one run per batch of requests, forever."""
    while True:
        await run_once(zufi)
