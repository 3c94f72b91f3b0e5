"""Queries on applications and their status steps."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import CursorResult, Select, case, func, or_, select, text
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


_OPEN_SUBMITTED = text("""
WITH application AS (
    INSERT INTO applications (
        id, case_id, mailbox_id, submission_id, destination_id, leika_key, service_name,
        authority_name, status, status_detail, payment_required, payment_transaction_id,
        created_at, updated_at
    )
    SELECT
        gen_random_uuid(), CAST(:case_id AS VARCHAR), CAST(:mailbox_id AS UUID),
        CAST(:submission_id AS VARCHAR), CAST(:destination_id AS VARCHAR), CAST(:leika_key AS VARCHAR),
        CAST(:service_name AS VARCHAR), CAST(:authority_name AS VARCHAR), CAST(:status AS VARCHAR),
        CAST(:status_detail AS TEXT), CAST(:payment_required AS BOOLEAN),
        CAST(:payment_transaction_id AS VARCHAR), CAST(:created_at AS TIMESTAMPTZ),
        CAST(:updated_at AS TIMESTAMPTZ)
    WHERE NOT EXISTS (
        SELECT FROM payments
        WHERE case_id = :case_id OR transaction_id = :payment_transaction_id
    )
    ON CONFLICT (case_id) DO NOTHING
    RETURNING id
),
mailbox AS (
    INSERT INTO mailboxes (id, created_at)
    SELECT CAST(:mailbox_id AS UUID), CAST(:updated_at AS TIMESTAMPTZ) FROM application
    WHERE CAST(:mailbox_id AS UUID) IS NOT NULL
    ON CONFLICT (id) DO NOTHING
)
INSERT INTO status_steps (id, application_id, status, occurred_at)
SELECT gen_random_uuid(), application.id, step.status, CAST(:occurred_at AS TIMESTAMPTZ)
FROM application CROSS JOIN unnest(CAST(:steps AS VARCHAR[])) AS step (status)
""")
"""Opens a submitted application with its mailbox and steps, unless its case or a payment of it is
known: then nothing is written. PostgreSQL checks the mailbox foreign key at the statement's end,
so the mailbox may come after the application that names it."""


async def open_submitted(
    session: AsyncSession,
    *,
    case_id: str,
    mailbox_id: uuid.UUID | None,
    submission_id: str,
    destination_id: str,
    leika_key: str,
    service_name: str,
    authority_name: str | None,
    status: str,
    status_detail: str | None,
    payment_required: bool,
    payment_transaction_id: str | None,
    created_at: datetime,
    updated_at: datetime,
    steps: Sequence[str],
    occurred_at: datetime,
) -> bool:
    """Write a case's first application in one round trip; True when written. Elsewhere than on
    PostgreSQL it writes nothing and answers False: the caller takes the general way.

    One prepared statement instead of the ORM's reads and flush: most submissions open their case.
    """
    if session.get_bind().dialect.name != "postgresql":
        return False
    parameters = {
        "case_id": case_id,
        "mailbox_id": mailbox_id,
        "submission_id": submission_id,
        "destination_id": destination_id,
        "leika_key": leika_key,
        "service_name": service_name,
        "authority_name": authority_name,
        "status": status,
        "status_detail": status_detail,
        "payment_required": payment_required,
        "payment_transaction_id": payment_transaction_id,
        "created_at": created_at,
        "updated_at": updated_at,
        "steps": list(steps),
        "occurred_at": occurred_at,
    }
    result = cast(CursorResult[tuple[()]], await session.execute(_OPEN_SUBMITTED, parameters))
    return result.rowcount > 0


def add(session: AsyncSession, row: Application | Payment) -> None:
    session.add(row)


async def payment(session: AsyncSession, transaction_id: str) -> Payment | None:
    return await session.get(Payment, transaction_id)


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
