"""Queries on applications and their status steps."""

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from ozg_mailbox.models import Application, Payment, StatusStep


async def by_case(session: AsyncSession, case_id: str) -> Application | None:
    return await session.scalar(select(Application).where(Application.case_id == case_id))


async def by_case_with_steps(session: AsyncSession, case_id: str) -> Application | None:
    query = select(Application).where(Application.case_id == case_id).options(selectinload(Application.steps))
    return await session.scalar(query)


async def by_transaction(session: AsyncSession, transaction_id: str) -> Application | None:
    return await session.scalar(
        select(Application).where(Application.payment_transaction_id == transaction_id).limit(1)
    )


async def steps_of(session: AsyncSession, application_id: uuid.UUID) -> list[StatusStep]:
    query = select(StatusStep).where(StatusStep.application_id == application_id)
    return list(await session.scalars(query))


async def payment_for(session: AsyncSession, case_id: str, transaction_id: str | None) -> Payment | None:
    """The payment of a case: named by case id, or by the transaction id the application carried."""
    payment = await session.scalar(
        select(Payment).where(Payment.case_id == case_id).order_by(Payment.occurred_at.desc()).limit(1)
    )
    if payment is None and transaction_id:
        payment = await session.get(Payment, transaction_id)
    return payment


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
