"""Queries of deliveries and their attempts."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_kop_gateway.models import Delivery, DeliveryAttempt, DeliveryState


def _locked(query: Select[Delivery], session: AsyncSession) -> Select[Delivery]:
    # Replicas share the table: each due row goes to whoever locks it first.
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


async def due(
    session: AsyncSession, now: datetime, *, limit: int, excluding: Sequence[str]
) -> list[Delivery]:
    """Pending deliveries whose time has come, oldest due first, locked for this transaction."""
    query = (
        select(Delivery)
        .where(Delivery.state == DeliveryState.PENDING, Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
    )
    if excluding:
        query = query.where(Delivery.destination_id.not_in(excluding))
    return list(await session.scalars(_locked(query, session)))


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
