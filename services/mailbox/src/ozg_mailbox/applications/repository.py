"""Queries on applications and their status steps."""

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from ozg_mailbox.models import Application, Payment


def _with_steps() -> Select[Application]:
    """Applications with their status steps, joined: one round trip for both."""
    return select(Application).options(joinedload(Application.steps))


async def by_case(session: AsyncSession, case_id: str) -> Application | None:
    """The application of a case, its steps loaded."""
    query = _with_steps().where(Application.case_id == case_id)
    return (await session.scalars(query)).unique().one_or_none()


async def of_payment(session: AsyncSession, case_id: str | None, transaction_id: str) -> Application | None:
    """The application a payment is for, its steps loaded: the one of the payment's case, else one
    that carried its transaction."""
    carried = Application.payment_transaction_id == transaction_id
    if case_id:
        of_case = Application.case_id == case_id
        query = _with_steps().where(or_(of_case, carried)).order_by(case((of_case, 0), else_=1))
    else:
        query = _with_steps().where(carried)
    return (await session.scalars(query.limit(1))).unique().first()


async def payment_for(session: AsyncSession, case_id: str, transaction_id: str | None) -> Payment | None:
    """The payment of a case: its latest named by case id, else the one of the transaction the
    application carried."""
    named = Payment.case_id == case_id
    if transaction_id:
        named = or_(named, Payment.transaction_id == transaction_id)
    query = (
        select(Payment)
        .where(named)
        .order_by(case((Payment.case_id == case_id, 0), else_=1), Payment.occurred_at.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def list_for_mailbox(
    session: AsyncSession, mailbox_id: uuid.UUID, *, offset: int, limit: int
) -> tuple[Sequence[Application], int]:
    mine = Application.mailbox_id == mailbox_id
    total = await session.scalar(select(func.count()).select_from(Application).where(mine))
    query = (
        select(Application)
        .where(mine)
        .options(selectinload(Application.steps))
        .order_by(Application.created_at.desc(), Application.id)
        .offset(offset)
        .limit(limit)
    )
    return list(await session.scalars(query)), int(total or 0)


async def get_for_mailbox(
    session: AsyncSession, mailbox_id: uuid.UUID, application_id: uuid.UUID
) -> Application | None:
    query = (
        select(Application)
        .where(Application.id == application_id, Application.mailbox_id == mailbox_id)
        .options(selectinload(Application.steps))
    )
    return await session.scalar(query)
