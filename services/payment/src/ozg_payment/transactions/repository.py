"""Queries on payment transactions."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_payment.models import PaymentTransaction


async def get(
    session: AsyncSession, transaction_id: uuid.UUID, *, lock: bool = False
) -> PaymentTransaction | None:
    statement = select(PaymentTransaction).where(PaymentTransaction.id == transaction_id)
    if lock:
        statement = statement.with_for_update(skip_locked=True)
    return (await session.scalars(statement)).one_or_none()


async def insert(session: AsyncSession, transaction: PaymentTransaction) -> bool:
    """Insert; False (and nothing inserted) when its requestId or Kassenzeichen is taken."""
    try:
        async with session.begin_nested():
            session.add(transaction)
            await session.flush()
    except IntegrityError:
        if transaction in session:
            session.expunge(transaction)
        return False
    return True


async def by_request_id(
    session: AsyncSession, originator_id: str, endpoint_id: str, request_id: str
) -> PaymentTransaction | None:
    statement = select(PaymentTransaction).where(
        PaymentTransaction.originator_id == originator_id,
        PaymentTransaction.endpoint_id == endpoint_id,
        PaymentTransaction.request_id == request_id,
    )
    return (await session.scalars(statement)).one_or_none()


async def due_for_check(session: AsyncSession, now: datetime, limit: int) -> Sequence[uuid.UUID]:
    statement = (
        select(PaymentTransaction.id)
        .where(PaymentTransaction.next_check_at <= now)
        .order_by(PaymentTransaction.next_check_at)
        .limit(limit)
    )
    return (await session.scalars(statement)).all()


async def leave_initial(session: AsyncSession, transaction_id: uuid.UUID, values: dict[str, Any]) -> bool:
    """Move a transaction out of INITIAL unless someone else already did; True for the winner."""
    result = await session.execute(
        update(PaymentTransaction)
        .where(PaymentTransaction.id == transaction_id, PaymentTransaction.status == "INITIAL")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def record_late_result(
    session: AsyncSession, transaction_id: uuid.UUID, values: dict[str, Any]
) -> bool:
    """Record a contradicting provider result once, however many checks see it at the same time."""
    result = await session.execute(
        update(PaymentTransaction)
        .where(PaymentTransaction.id == transaction_id, PaymentTransaction.late_provider_status.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def reconciliation_rows(
    session: AsyncSession, start: datetime, end: datetime, now: datetime
) -> Sequence[PaymentTransaction]:
    """Transactions paid or contradicted by the provider in [start, end), and every one still
    INITIAL whose timeout passed before `end` (and before `now`)."""
    paid = and_(
        PaymentTransaction.status == "PAYED",
        PaymentTransaction.status_changed_at >= start,
        PaymentTransaction.status_changed_at < end,
    )
    overdue = and_(PaymentTransaction.status == "INITIAL", PaymentTransaction.expires_at < min(end, now))
    contradicted = and_(
        PaymentTransaction.late_provider_status.is_not(None),
        PaymentTransaction.late_reported_at >= start,
        PaymentTransaction.late_reported_at < end,
    )
    statement = select(PaymentTransaction).where(or_(paid, overdue, contradicted))
    return (await session.scalars(statement)).all()


async def page(
    session: AsyncSession, *, case_id: str | None, status: str | None, offset: int, limit: int
) -> tuple[Sequence[PaymentTransaction], int]:
    """Transactions newest first, optionally of one case and/or in one state, with their total."""
    statement = select(PaymentTransaction)
    if case_id is not None:
        statement = statement.where(PaymentTransaction.case_id == case_id)
    if status is not None:
        statement = statement.where(PaymentTransaction.status == status)
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    rows = await session.scalars(
        statement.order_by(PaymentTransaction.created_at.desc(), PaymentTransaction.id)
        .offset(offset)
        .limit(limit)
    )
    return rows.all(), int(total or 0)


async def count_pending(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).where(PaymentTransaction.status == "INITIAL")) or 0)


async def count_reconciliation(session: AsyncSession) -> int:
    statement = select(func.count()).where(PaymentTransaction.late_provider_status.is_not(None))
    return int(await session.scalar(statement) or 0)
