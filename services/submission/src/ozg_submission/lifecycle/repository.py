"""Queries on submissions, their attachments and the payments they wait for.

The statements of the hot paths (submit, delivery outcomes) are built once, with bound parameters:
building a statement costs more Python than executing one SQLAlchemy has compiled before.
"""

import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.bulk import RowUpdate, table_of
from ozg_submission.models import Attachment, Destination, Payment, Submission, SubmissionStatus

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


_SUBMISSIONS = table_of(Submission)
_COLUMNS = _SUBMISSIONS.c
_DESTINATIONS = table_of(Destination)
_LOCKED_WITH_DESTINATION = (
    select(
        _SUBMISSIONS,
        _DESTINATIONS.c.status.label("destination_status"),
        _DESTINATIONS.c.name.label("destination_name"),
        _DESTINATIONS.c.encryption_kid.label("destination_kid"),
    )
    .outerjoin_from(_SUBMISSIONS, _DESTINATIONS, _DESTINATIONS.c.destination_id == _COLUMNS.destination_id)
    .where(_COLUMNS.id == bindparam("submission_id"))
    .with_for_update(of=_SUBMISSIONS)
)


@dataclass(frozen=True, slots=True)
class DestinationOfSubmission:
    """What submitting needs of a submission's destination: whether it still exists, its name, the
    key its content must be encrypted for."""

    status: str | None
    """None: there is no such destination (any more)."""
    name: str | None
    encryption_kid: str | None


async def locked_with_destination(
    session: AsyncSession, submission_id: uuid.UUID
) -> tuple[Submission | None, DestinationOfSubmission]:
    """A submission locked for update (as committed now) and its destination, in one round trip;
    only the submission's row is locked.

    The submission is read as a plain row into an object the session does not track: whoever
    changes it writes the changes (`submitted_changes`), no unit of work is involved.
    """
    # On the session's connection, in its transaction: a Core statement needs no ORM execution.
    connection = await session.connection()
    row = (await connection.execute(_LOCKED_WITH_DESTINATION, {"submission_id": submission_id})).first()
    if row is None:
        return None, DestinationOfSubmission(None, None, None)
    columns = row._asdict()
    destination = DestinationOfSubmission(
        columns.pop("destination_status"), columns.pop("destination_name"), columns.pop("destination_kid")
    )
    return Submission(**columns), destination


_SUBMITTED_COLUMNS = (
    "status",
    "submitted_at",
    "forwarded_at",
    "last_event_at",
    "payment_required",
    "payment_status",
    "payment_transaction_id",
    "metadata_key",
    "metadata_sha512",
    "metadata_size",
    "data_key",
    "data_sha512",
    "data_size",
    "authentication_tags",
)


def submitted_changes(submission: Submission) -> RowUpdate:
    """The row of a submission just submitted: every column submitting may change, as it is now
    (the row is locked, so columns unchanged are written as they are)."""
    return RowUpdate(
        _SUBMISSIONS,
        {"id": submission.id},
        {column: getattr(submission, column) for column in _SUBMITTED_COLUMNS},
    )


async def attachments_of(session: AsyncSession, submission_id: uuid.UUID) -> Sequence[Attachment]:
    query = (
        select(Attachment).where(Attachment.submission_id == submission_id).order_by(Attachment.uploaded_at)
    )
    return (await session.scalars(query)).all()


async def get_attachment(
    session: AsyncSession, submission_id: uuid.UUID, attachment_id: uuid.UUID
) -> Attachment | None:
    return await session.get(Attachment, (submission_id, attachment_id))


async def replace_attachment(
    session: AsyncSession, existing: Attachment | None, attachment: Attachment
) -> None:
    """Store an uploaded attachment in place of the one uploaded before under its id, if any."""
    if existing is not None:
        await session.delete(existing)
        await session.flush()
    session.add(attachment)


async def delete_attachments(session: AsyncSession, submission_id: uuid.UUID) -> None:
    await session.execute(delete(Attachment).where(Attachment.submission_id == submission_id))


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


async def locked_payment(session: AsyncSession, transaction_id: str) -> Payment | None:
    """A payment as last reported, locked until the transaction ends."""
    return await session.get(Payment, transaction_id, with_for_update=True)


def add_payment(session: AsyncSession, transaction_id: str) -> Payment:
    """A payment first reported now; the caller fills in what was reported."""
    payment = Payment(transaction_id=transaction_id)
    session.add(payment)
    return payment


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


_ID = _COLUMNS.id == bindparam("submission_id")

_MARK_DELIVERED = (
    update(_SUBMISSIONS)
    .where(
        _ID,
        or_(
            _COLUMNS.status == SubmissionStatus.FORWARDED,
            _COLUMNS.picked_up_at.is_(None),
            _COLUMNS.delivery_error.is_not(None),
        ),
    )
    .values(
        status=case(
            (_COLUMNS.status == SubmissionStatus.FORWARDED, SubmissionStatus.DELIVERED.value),
            else_=_COLUMNS.status,
        ),
        picked_up_at=func.coalesce(
            _COLUMNS.picked_up_at, bindparam("delivered_at", type_=_COLUMNS.picked_up_at.type)
        ),
        delivery_error=None,
    )
)
_CLEAR_DELIVERY_ERROR = (
    update(_SUBMISSIONS).where(_ID, _COLUMNS.delivery_error.is_not(None)).values(delivery_error=None)
)
_RECORD_DELIVERY_ERROR = (
    update(_SUBMISSIONS)
    .where(_ID)
    .values(delivery_error=bindparam("error", type_=_COLUMNS.delivery_error.type))
    .returning(_COLUMNS.id)
)


async def mark_delivered(session: AsyncSession, submission_id: uuid.UUID, at: datetime) -> None:
    """The statement of `machine.delivered` (the only caller). The destination has it: picked up at
    `at` (unless it was before), delivered if it was only forwarded, no delivery error. One UPDATE
    that reads nothing back; a submission already in that state is not written."""
    await session.execute(_MARK_DELIVERED, {"submission_id": submission_id, "delivered_at": at})


async def clear_delivery_error(session: AsyncSession, submission_id: uuid.UUID) -> None:
    """A delivery attempt succeeded: whatever failed before is over."""
    await session.execute(_CLEAR_DELIVERY_ERROR, {"submission_id": submission_id})


async def record_delivery_error(session: AsyncSession, submission_id: uuid.UUID, error: str) -> bool:
    """Delivery gave up; False if there is no such submission."""
    updated = await session.scalar(_RECORD_DELIVERY_ERROR, {"submission_id": submission_id, "error": error})
    return updated is not None
