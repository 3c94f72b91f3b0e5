"""Queries of deliveries and their attempts."""

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Row,
    Select,
    Table,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.bulk import insert_many
from ozg_kop_gateway.cases import repository as cases
from ozg_kop_gateway.models import (
    Case,
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    DeliveryState,
    Destination,
    WebhookSecret,
)

_deliveries = cast(Table, Delivery.__table__)
_cases = cast(Table, Case.__table__)

# The statements of the hot paths are built once: a reused statement keeps its cache key and its
# compiled form, where one built per call (`.values(...)`, `.in_(...)`) computes both again.
_ADD = insert(_deliveries)
_NEW = [
    column.key for column in _deliveries.c if column.key not in {"delivered_at", "last_status", "last_error"}
]
"""The columns of a new delivery: all but its outcome's."""
_added = (
    insert(_deliveries)
    .values({key: bindparam(key, type_=_deliveries.c[key].type) for key in _NEW})
    .returning(*(_deliveries.c[key] for key in ("case_id", "submission_id", "destination_id", "created_at")))
    .cte("added")
)
# A data-modifying WITH always runs to completion, so the delivery is inserted in any case; the
# case takes the delivery's values unless it exists.
_ADD_WITH_CASE = (
    postgresql.insert(_cases)
    .from_select(
        ["id", "submission_id", "destination_id", "created_at", "authentication_tags"],
        select(_added, bindparam("authentication_tags", type_=_cases.c.authentication_tags.type)),
    )
    .on_conflict_do_nothing()
)


async def add(session: AsyncSession, row: dict[str, Any]) -> None:
    """A new delivery (all its columns but the outcome's). A Core INSERT: no unit of work to flush."""
    await session.execute(_ADD, row)


async def add_with_case(
    session: AsyncSession, row: dict[str, Any], authentication_tags: dict[str, Any] | None
) -> None:
    """A new delivery, and its case (with the submission's `authentication_tags`) unless the case
    exists (the first delivery decides which destination may answer it); one round trip on PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_ADD_WITH_CASE, row | {"authentication_tags": authentication_tags})
        return
    await cases.register(
        session,
        row["case_id"],
        row["submission_id"],
        row["destination_id"],
        row["created_at"],
        authentication_tags,
    )
    await session.execute(_ADD, row)


def _locks_rows(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _locked(query: Select[Delivery], session: AsyncSession) -> Select[Delivery]:
    # Replicas share the table: each row goes to whoever locks it first.
    if _locks_rows(session):
        return query.with_for_update(skip_locked=True)
    return query


@functools.cache
def _due_query(*, locking: bool, excluding: bool) -> Select[*tuple[Any, ...]]:
    """Due deliveries with their destination as the read model has it now; built once per shape."""
    query = (
        select(
            _deliveries.c.id,
            _deliveries.c.kind,
            _deliveries.c.destination_id,
            _deliveries.c.case_id,
            _deliveries.c.submission_id,
            _deliveries.c.payload,
            _deliveries.c.attempt_count,
            _deliveries.c.expires_at,
            Destination.id.label("target_id"),
            Destination.url,
            Destination.channel_type,
            Destination.signature_scheme,
            Destination.status,
            exists()
            .where(
                WebhookSecret.destination_id == _deliveries.c.destination_id,
                or_(WebhookSecret.retires_at.is_(None), WebhookSecret.retires_at > bindparam("now")),
            )
            .label("explicit_secrets"),
        )
        .outerjoin(Destination, Destination.id == _deliveries.c.destination_id)
        .where(
            _deliveries.c.state == DeliveryState.PENDING, _deliveries.c.next_attempt_at <= bindparam("now")
        )
        .order_by(_deliveries.c.next_attempt_at)
        .limit(bindparam("limit"))
    )
    if excluding:
        query = query.where(_deliveries.c.destination_id.not_in(bindparam("excluding", expanding=True)))
    if locking:
        # Replicas share the table: each due row goes to whoever locks it first.
        query = query.with_for_update(skip_locked=True, of=_deliveries)
    return query


async def due(
    session: AsyncSession, now: datetime, *, limit: int, excluding: Sequence[str]
) -> Sequence[Row[Any]]:
    """Pending deliveries whose time has come, oldest due first, locked for this transaction; each
    with its destination's `target_id` (None if unknown), `url`, `channel_type`, `signature_scheme`
    and `status` as the read model has them now, and whether it has `explicit_secrets` that sign now
    (most have none: then the claim needs no query of them)."""
    query = _due_query(locking=_locks_rows(session), excluding=bool(excluding))
    parameters: dict[str, Any] = {"now": now, "limit": limit}
    if excluding:
        parameters["excluding"] = list(excluding)
    return (await session.execute(query, parameters)).all()


_LEASE = (
    update(_deliveries)
    .where(_deliveries.c.id.in_(bindparam("ids", expanding=True)))
    .values(attempt_count=_deliveries.c.attempt_count + 1, next_attempt_at=bindparam("until"))
)


async def lease(session: AsyncSession, delivery_ids: Sequence[uuid.UUID], until: datetime) -> None:
    """Count an attempt of each claimed delivery and reserve it until `until` (the rows are locked)."""
    if delivery_ids:
        await session.execute(_LEASE, {"ids": list(delivery_ids), "until": until})


_attempts = cast(Table, DeliveryAttempt.__table__)


async def add_attempts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Store attempts (with their `id`s) in one statement."""
    await insert_many(session, _attempts, rows)


_MARK_DELIVERED = (
    update(_deliveries)
    # Only a pending delivery moves: a late outcome after a replay or a re-claim changes nothing.
    .where(
        _deliveries.c.id.in_(bindparam("ids", expanding=True)), _deliveries.c.state == DeliveryState.PENDING
    )
    .values(
        state=DeliveryState.SUCCEEDED,
        next_attempt_at=None,
        delivered_at=bindparam("at"),
        last_status=bindparam("status"),
        last_error=None,
    )
    .returning(_deliveries.c.id)
)


async def mark_delivered(
    session: AsyncSession, delivery_ids: Sequence[uuid.UUID], *, status: int | None, at: datetime
) -> list[uuid.UUID]:
    """Move pending deliveries to succeeded; returns those that moved."""
    result = await session.scalars(_MARK_DELIVERED, {"ids": list(delivery_ids), "status": status, "at": at})
    return list(result)


class Retry(NamedTuple):
    """A failed attempt's delivery, to be tried again at `at`."""

    delivery_id: uuid.UUID
    at: datetime
    status: int | None
    error: str


# Only a pending delivery moves: a late outcome after a replay or a re-claim changes nothing.
_RESCHEDULE = (
    update(_deliveries)
    .where(_deliveries.c.id == bindparam("delivery_id"), _deliveries.c.state == DeliveryState.PENDING)
    .values(next_attempt_at=bindparam("at"), last_status=bindparam("status"), last_error=bindparam("error"))
)


async def reschedule(session: AsyncSession, retries: Sequence[Retry]) -> None:
    """Note each failure and when its delivery is tried next, in one executemany."""
    if retries:
        await session.execute(_RESCHEDULE, [retry._asdict() for retry in retries])


_DEAD_LETTER = (
    update(_deliveries)
    .where(_deliveries.c.id == bindparam("delivery_id"), _deliveries.c.state == DeliveryState.PENDING)
    .values(
        state=DeliveryState.DEAD_LETTERED,
        next_attempt_at=None,
        last_status=bindparam("status"),
        last_error=bindparam("error"),
    )
)


async def dead_letter(
    session: AsyncSession, delivery_id: uuid.UUID, *, status: int | None, error: str
) -> bool:
    """Give up on a pending delivery; False if it was no longer pending."""
    result = await session.execute(
        _DEAD_LETTER, {"delivery_id": delivery_id, "status": status, "error": error}
    )
    return bool(getattr(result, "rowcount", 0))


async def expired(session: AsyncSession, now: datetime, *, limit: int) -> list[Delivery]:
    """Pending deliveries past their horizon that nobody is attempting (e.g. held by an open circuit)."""
    query = (
        select(Delivery)
        .where(
            Delivery.state == DeliveryState.PENDING,
            Delivery.next_attempt_at <= now,
            Delivery.expires_at <= now,
        )
        .limit(limit)
    )
    return list(await session.scalars(_locked(query, session)))


async def get(session: AsyncSession, delivery_id: uuid.UUID, *, for_update: bool = False) -> Delivery | None:
    if for_update:
        query = _locked(select(Delivery).where(Delivery.id == delivery_id), session)
        return (await session.scalars(query)).first()
    return await session.get(Delivery, delivery_id)


async def attempts(session: AsyncSession, delivery_id: uuid.UUID) -> list[DeliveryAttempt]:
    query = (
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id == delivery_id)
        .order_by(DeliveryAttempt.number, DeliveryAttempt.started_at)
    )
    return list(await session.scalars(query))


async def search(
    session: AsyncSession,
    *,
    state: DeliveryState | None,
    destination_id: str | None,
    case_id: str | None,
    offset: int,
    limit: int,
) -> tuple[int, list[Delivery]]:
    query = select(Delivery)
    if state is not None:
        query = query.where(Delivery.state == state)
    if destination_id is not None:
        query = query.where(Delivery.destination_id == destination_id)
    if case_id is not None:
        query = query.where(Delivery.case_id == case_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    page = await session.scalars(
        query.order_by(Delivery.created_at.desc(), Delivery.id).offset(offset).limit(limit)
    )
    return int(total or 0), list(page)


async def dead_letters(session: AsyncSession, destination_id: str | None, *, limit: int) -> list[Delivery]:
    query = select(Delivery).where(Delivery.state == DeliveryState.DEAD_LETTERED).limit(limit)
    if destination_id is not None:
        query = query.where(Delivery.destination_id == destination_id)
    return list(await session.scalars(_locked(query, session)))


async def latest_submission_delivery(
    session: AsyncSession, case_id: str, submission_id: str
) -> Delivery | None:
    """The newest delivery of the submission itself (by case: that column is indexed)."""
    query = (
        select(Delivery)
        .where(
            Delivery.case_id == case_id,
            Delivery.submission_id == submission_id,
            Delivery.kind == DeliveryKind.SUBMISSION,
        )
        .order_by(Delivery.created_at.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def backlog(session: AsyncSession) -> list[tuple[DeliveryState, str, int]]:
    """How many deliveries wait (pending or dead-lettered), by state and destination."""
    by_state = (
        select(Delivery.state, Delivery.destination_id, func.count())
        .where(Delivery.state.in_([DeliveryState.PENDING, DeliveryState.DEAD_LETTERED]))
        .group_by(Delivery.state, Delivery.destination_id)
    )
    rows = await session.execute(by_state)
    return [(state, destination_id, count) for state, destination_id, count in rows]
