"""Queries on submissions and their attachments."""

import contextlib
import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_submission.models import Attachment, Payment, Submission, SubmissionStatus

READY_FOR_PICKUP = (SubmissionStatus.FORWARDED, SubmissionStatus.DELIVERED)
VISIBLE_TO_SUBSCRIBER = (*READY_FOR_PICKUP, SubmissionStatus.ACCEPTED, SubmissionStatus.REJECTED)


async def get_submission(
    session: AsyncSession, submission_id: uuid.UUID, *, for_update: bool = False
) -> Submission | None:
    query = select(Submission).where(Submission.id == submission_id)
    if for_update:
        # Locking re-reads the row: what this session loaded earlier may be stale by now.
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(query)).one_or_none()


async def attachments_of(session: AsyncSession, submission_id: uuid.UUID) -> Sequence[Attachment]:
    query = (
        select(Attachment).where(Attachment.submission_id == submission_id).order_by(Attachment.uploaded_at)
    )
    return (await session.scalars(query)).all()


async def get_attachment(
    session: AsyncSession, submission_id: uuid.UUID, attachment_id: uuid.UUID
) -> Attachment | None:
    return await session.get(Attachment, (submission_id, attachment_id))


async def ready_for_pickup(
    session: AsyncSession, destination_ids: set[str] | None, *, offset: int, limit: int
) -> tuple[int, Sequence[Submission]]:
    """Submissions waiting for their destinations (None: every destination)."""
    condition: ColumnElement[bool] = Submission.status.in_(READY_FOR_PICKUP)
    if destination_ids is not None:
        condition = condition & Submission.destination_id.in_(destination_ids)
    total = await session.scalar(select(func.count()).select_from(Submission).where(condition))
    page = await session.scalars(
        select(Submission)
        .where(condition)
        .order_by(Submission.forwarded_at, Submission.id)
        .offset(offset)
        .limit(limit)
    )
    return int(total or 0), page.all()


async def of_case(session: AsyncSession, case_id: uuid.UUID) -> Sequence[Submission]:
    return (await session.scalars(select(Submission).where(Submission.case_id == case_id))).all()


async def awaiting_payment(
    session: AsyncSession, *, case_id: str | None, transaction_id: str
) -> Sequence[Submission]:
    """Submissions a payment settles: named by the payment's case, or carrying its transaction id."""
    matches = [Submission.payment_transaction_id == transaction_id]
    if case_id:
        with contextlib.suppress(ValueError):
            matches.append(Submission.case_id == uuid.UUID(case_id))
    query = (
        select(Submission)
        .where(Submission.status == SubmissionStatus.AWAITING_PAYMENT, or_(*matches))
        .with_for_update()
    )
    return (await session.scalars(query)).all()


async def payment_for(
    session: AsyncSession, *, case_id: uuid.UUID, transaction_id: str | None
) -> Payment | None:
    """The payment that settles a new submission: by transaction id, else by case."""
    if transaction_id:
        payment = await session.get(Payment, transaction_id)
        if payment is not None:
            return payment
    query = (
        select(Payment).where(Payment.case_id == str(case_id)).order_by(Payment.updated_at.desc()).limit(1)
    )
    return (await session.scalars(query)).first()
