"""Where a submission changes state: the lifecycle's states, the moves between them (`MOVES`), and
what each move writes. No other module assigns a submission's status.

Each move, with its event-log entries (FIT-Connect events) and the Kafka events it publishes:

- `create`: (new) → incomplete. Logs create-submission.
- `submit` (FIT-Connect sender): incomplete → submitted → forwarded, or → awaiting_payment while a
  payment transaction opened for it is not paid (never for the service's fee alone).
  Logs submit-submission; publishes submission.submitted (and submission.ready_for_delivery).
- `take_in` (native intake): (new) → incomplete → submitted → forwarded or awaiting_payment (while
  the service's fee is not paid) at once.
  Logs create-submission, then as `submit`; publishes as `submit`.
- `settle`: awaiting_payment → forwarded. Nothing logged; publishes submission.ready_for_delivery.
- `payment_failed`: awaiting_payment stays. Nothing logged or published.
- `picked_up` (the destination's own GET) and `delivered` (kop-gateway): forwarded → delivered.
  Nothing logged or published.
- `decide`: forwarded or delivered → accepted or rejected. Logs accept- or reject-submission: the
  SET of whoever decided (the destination's own, or kop-gateway's for a destination it answers for),
  or ours where we decide (retention).
- `decided_by_destination` (posted to the FIT-Connect API): as `decide`; publishes case.accepted or
  case.rejected.
- `forwarded_by_destination` (posted to the FIT-Connect API): forwarded or delivered stays. Logs the
  destination's forward-submission.
- `reject_unpicked` (retention): forwarded → rejected. Logs reject-submission (not picked up).
- `delete` (retention): any state but deleted → deleted. Logs delete-submission; publishes
  submission.deleted.

Forward, accept and reject are written by the receiving side only (standards.md §1, "Who signs
what"): that we forwarded a submission shows in its status (`forwarded`, or `awaiting_payment`
while it waits), never as an entry signed in the destination's name.

`submitted` is passed through within one move and never stored. The FIT-Connect API
(`ozg_submission.fitconnect`), the native intake (`ozg_submission.applications`), the consumers
(`lifecycle.handlers`) and retention call these moves.
"""

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.bulk import Rows, RowUpdate, insert_rows, row_of, table_of, values_of
from ozg_common.contracts.delivery import CaseAccepted, CaseRejected
from ozg_common.contracts.submission import SubmissionDeleted
from ozg_common.events import Event
from ozg_common.security_events import ACCEPT, CREATE, DELETE, FORWARD, REJECT, SUBMIT
from ozg_submission.directory.service import find_destination
from ozg_submission.errors import SubmissionStateInvalid
from ozg_submission.eventlog import service as eventlog
from ozg_submission.lifecycle import repository
from ozg_submission.lifecycle.collaborators import Collaborators
from ozg_submission.lifecycle.content import (
    Payloads,
    blob_prefix,
    ready_event,
    seal_pending_metadata,
    submitted_event,
)
from ozg_submission.models import (
    Attachment,
    EventLogEntry,
    Payment,
    Submission,
    SubmissionStatus,
    outbox_table,
)

logger = logging.getLogger(__name__)

INCOMPLETE = SubmissionStatus.INCOMPLETE
SUBMITTED = SubmissionStatus.SUBMITTED
AWAITING_PAYMENT = SubmissionStatus.AWAITING_PAYMENT
FORWARDED = SubmissionStatus.FORWARDED
DELIVERED = SubmissionStatus.DELIVERED
ACCEPTED = SubmissionStatus.ACCEPTED
REJECTED = SubmissionStatus.REJECTED
DELETED = SubmissionStatus.DELETED

MOVES: Mapping[SubmissionStatus, frozenset[SubmissionStatus]] = {
    INCOMPLETE: frozenset({SUBMITTED, DELETED}),
    SUBMITTED: frozenset({AWAITING_PAYMENT, FORWARDED}),
    AWAITING_PAYMENT: frozenset({FORWARDED, DELETED}),
    FORWARDED: frozenset({DELIVERED, ACCEPTED, REJECTED, DELETED}),
    DELIVERED: frozenset({ACCEPTED, REJECTED, DELETED}),
    ACCEPTED: frozenset({DELETED}),
    REJECTED: frozenset({DELETED}),
    DELETED: frozenset(),
}
"""Each state and the states a submission in it may move to."""

PAYED = "PAYED"
"""The payment status that settles a fee."""

NOT_PICKED_UP = {
    "type": "https://schema.fitko.de/fit-connect/events/problems/not-picked-up",
    "title": "Not picked up",
    "detail": "The destination did not pick the submission up in time; it was rejected automatically.",
}

_SUBMISSIONS = table_of(Submission)
_ATTACHMENTS = table_of(Attachment)
_EVENT_LOG = table_of(EventLogEntry)


def _move(submission: Submission, to: SubmissionStatus) -> None:
    """Every status assignment: only along `MOVES`."""
    if to not in MOVES[SubmissionStatus(submission.status)]:
        raise SubmissionStateInvalid(
            f"Submission {submission.id} is {submission.status}; it cannot become {to}."
        )
    submission.status = to


def awaits_payment(payment_required: bool, payment: Payment | None) -> bool:
    """Must a submitted application wait for its fee (`payment`: as last reported, if at all)?"""
    return payment_required and (payment is None or payment.status != PAYED)


@dataclass(frozen=True, slots=True)
class Announced:
    """A submission just created: what its sender is told."""

    id: uuid.UUID
    case_id: uuid.UUID
    destination_id: str


async def create(
    session: AsyncSession,
    announced: Announced,
    attributes: Mapping[str, Any],
    also: Sequence[tuple[Table, Rows]] = (),
) -> None:
    """(new) → incomplete: the submission's row and its `create-submission` entry, in one statement.

    `attributes`: the submission's columns other than its ids, status and times; the submission is
    never an ORM object. `also`: rows of other tables that belong to the new submission.
    """
    now = datetime.now(UTC)
    row = row_of(
        Submission,
        {
            **attributes,
            "id": announced.id,
            "case_id": announced.case_id,
            "destination_id": announced.destination_id,
            "status": INCOMPLETE,
            "reminders_sent": 0,
            "created_at": now,
            "last_event_at": now,
        },
    )
    await insert_rows(
        session,
        [(_SUBMISSIONS, [row]), (_EVENT_LOG, [eventlog.entry(announced, CREATE, now)]), *also],
    )


def _logged(
    submission: Submission, event: str, at: datetime, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The row of an event-log entry, now the latest event of the submission."""
    submission.last_event_at = at
    return eventlog.entry(submission, event, at, details)


def _take_payment(submission: Submission, payment: Payment) -> None:
    """The payment that settles the submission, as it was last reported."""
    submission.payment_status = payment.status
    submission.payment_transaction_id = payment.transaction_id


def _forwarded(submission: Submission, at: datetime) -> None:
    """→ forwarded; not logged: forward-submission is the receiving side's to write."""
    _move(submission, FORWARDED)
    submission.forwarded_at = at


def _submitted(
    submission: Submission, authority_name: str, payment: Payment | None, stored: Payloads, at: datetime
) -> tuple[list[dict[str, Any]], list[Event]]:
    """incomplete → submitted → forwarded or awaiting_payment: the entries and the events so far
    (a forwarded submission's `submission.ready_for_delivery` is the caller's to add).

    The JWEs' authentication tags are kept with the submission and stated in submit-submission."""
    _move(submission, SUBMITTED)
    submission.submitted_at = at
    submission.authentication_tags = stored.authentication_tags()
    log = [_logged(submission, SUBMIT, at, {"authenticationTags": submission.authentication_tags})]
    published: list[Event] = [submitted_event(submission, authority_name)]
    if awaits_payment(submission.payment_required, payment):
        _move(submission, AWAITING_PAYMENT)
        submission.payment_status = payment.status if payment else None
    else:
        if payment is not None:
            # Paid before it was submitted. Only the native intake holds metadata back for the
            # paymentInformation (`settle`); a FIT-Connect sender encrypted its own.
            _take_payment(submission, payment)
        _forwarded(submission, at)
    return log, published


async def _write(
    session: AsyncSession,
    state: Collaborators,
    log: list[dict[str, Any]],
    events: list[Event],
    *,
    updating: RowUpdate | None = None,
) -> None:
    """Append-only rows need no unit of work: one INSERT for the entries and the outbox rows (and
    the UPDATE of `updating`'s row)."""
    await insert_rows(
        session, [(_EVENT_LOG, log), (outbox_table, state.outbox.rows(events))], updating=updating
    )


async def submit(
    session: AsyncSession,
    state: Collaborators,
    submission: Submission,
    authority_name: str,
    stored: Payloads,
) -> None:
    """incomplete → submitted → forwarded, or awaiting_payment while a payment transaction opened
    for it at our payment service is not paid (FIT-Connect sender).

    The federal service never holds a submission for a fee: a FIT-Connect sender takes it through
    its own ePayment. Only a transaction the sender named, or one opened at our payment service for
    the case before the submit (`payment.opened`), decides.
    `submission` (locked, not tracked by the session): its changes, the entries and the events are
    written in one statement.
    """
    payment = await repository.payment_for(
        session, case_id=submission.case_id, transaction_id=submission.payment_transaction_id
    )
    if payment is not None:
        submission.payment_required = True
    log, published = _submitted(submission, authority_name, payment, stored, datetime.now(UTC))
    if submission.status == FORWARDED:
        published.append(await ready_event(session, state, submission, stored))
    await _write(session, state, log, published, updating=repository.submitted_changes(submission))
    state.metrics.submissions.labels(submission.origin, submission.status).inc()


async def take_in(
    session: AsyncSession,
    state: Collaborators,
    submission: Submission,
    *,
    authority_name: str,
    payment: Payment | None,
    attachments: list[dict[str, Any]],
    stored: Payloads,
    at: datetime,
) -> None:
    """(new) → incomplete → submitted → forwarded or awaiting_payment, all at `at`: an application
    taken whole (native intake), inserted with its attachments' rows, entries and events.

    `submission`: a new object the session does not track; without attachments one statement writes
    everything, with them the forward event reads them back in between.
    """
    submission.status = INCOMPLETE
    submission.reminders_sent = 0
    submission.created_at = at
    log = [_logged(submission, CREATE, at)]
    submitted_log, published = _submitted(submission, authority_name, payment, stored, at)
    log += submitted_log
    staged = [(_SUBMISSIONS, [values_of(submission)]), (_ATTACHMENTS, attachments), (_EVENT_LOG, log)]
    if attachments:
        await insert_rows(session, staged)
        staged = []
    if submission.status == FORWARDED:
        published.append(await ready_event(session, state, submission, stored))
    await insert_rows(session, [*staged, (outbox_table, state.outbox.rows(published))])
    state.metrics.submissions.labels(submission.origin, submission.status).inc()


async def settle(
    session: AsyncSession, state: Collaborators, submission: Submission, payment: Payment
) -> None:
    """awaiting_payment → forwarded: the payment arrived; its paymentInformation is added to
    metadata held back for it."""
    _take_payment(submission, payment)
    if submission.pending_metadata is not None:
        destination = await find_destination(session, submission.destination_id)
        await seal_pending_metadata(state, submission, destination, payment.payment_information)
    _forwarded(submission, datetime.now(UTC))
    await state.outbox.publish(session, await ready_event(session, state, submission))
    state.metrics.submissions.labels(submission.origin, submission.status).inc()


def payment_failed(submission: Submission, payment_status: str, transaction_id: str) -> None:
    """awaiting_payment stays, visibly: the citizen may pay again; retention ends it otherwise."""
    submission.payment_status = payment_status
    submission.payment_transaction_id = transaction_id


def picked_up(submission: Submission, at: datetime) -> None:
    """forwarded → delivered: the destination fetched it itself (a FIT-Connect subscriber's delivery)."""
    if submission.picked_up_at is None:
        submission.picked_up_at = at
    if submission.status == FORWARDED:
        _move(submission, DELIVERED)


async def delivered(session: AsyncSession, submission_id: uuid.UUID, at: datetime) -> None:
    """forwarded → delivered: kop-gateway delivered it at `at`. One UPDATE whose condition is the
    move (`repository.mark_delivered`); a submission already past forwarded only gets its pickup time."""
    await repository.mark_delivered(session, submission_id, at)


def decide(
    session: AsyncSession,
    submission: Submission,
    decision: str,
    at: datetime,
    *,
    token: str | None = None,
    jti: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """forwarded or delivered → accepted or rejected (`decision`: ACCEPT or REJECT), logged as the
    SET of whoever decided (`token`, verified by the caller, with its `jti`), else as an entry of
    ours with `details` (an accept repeating the stored authentication tags, as an accept does)."""
    if token:
        eventlog.append(session, submission, decision, token, jti)
    else:
        if decision == ACCEPT:
            details = {"authenticationTags": submission.authentication_tags or {}} | (details or {})
        eventlog.record(session, submission, decision, details)
    _move(submission, ACCEPTED if decision == ACCEPT else REJECTED)
    submission.decided_at = at
    if submission.picked_up_at is None:
        submission.picked_up_at = at


async def decided_by_destination(
    session: AsyncSession,
    state: Collaborators,
    submission: Submission,
    decision: str,
    token: str,
    jti: uuid.UUID,
    problems: list[dict[str, Any]],
) -> None:
    """`decide`, posted by the destination to the FIT-Connect API as a verified SET; announced as
    `case.accepted`/`case.rejected` (the events kop-gateway's return channel publishes), so the
    mailbox tells the citizen."""
    now = datetime.now(UTC)
    decide(session, submission, decision, now, token=token, jti=jti)
    await state.outbox.publish(session, _announcement(submission, decision, now, token, problems))
    state.metrics.submissions.labels(submission.origin, submission.status).inc()


def forwarded_by_destination(
    session: AsyncSession, submission: Submission, token: str, jti: uuid.UUID
) -> None:
    """forwarded or delivered stays: the destination passed the submission on (its verified
    forward-submission SET is logged); its decision is still to come."""
    eventlog.append(session, submission, FORWARD, token, jti)


def _announcement(
    submission: Submission, decision: str, at: datetime, token: str, problems: list[dict[str, Any]]
) -> CaseAccepted | CaseRejected:
    """The decision as kop-gateway's return channel announces it, carrying the destination's SET."""
    if decision == ACCEPT:
        return CaseAccepted(
            case_id=str(submission.case_id),
            submission_id=str(submission.id),
            destination_id=submission.destination_id,
            accepted_at=at,
            security_event_token=token,
        )
    return CaseRejected(
        case_id=str(submission.case_id),
        submission_id=str(submission.id),
        destination_id=submission.destination_id,
        rejected_at=at,
        problems=problems,
        security_event_token=token,
    )


def reject_unpicked(
    session: AsyncSession, state: Collaborators, submission: Submission, at: datetime
) -> None:
    """forwarded → rejected: not picked up in time. It still counts as never picked up, so
    retention deletes it as such."""
    decide(session, submission, REJECT, at, details={"problems": [NOT_PICKED_UP]})
    submission.picked_up_at = None
    state.metrics.retention.labels("auto-reject").inc()


async def delete(session: AsyncSession, state: Collaborators, submission: Submission, reason: str) -> None:
    """any state but deleted → deleted: content and attachments gone, the row and the case's log kept."""
    # Blobs first: if the commit fails, the next pass deletes again (idempotent); never a row
    # claiming "deleted" while the content survives.
    await state.blobs.delete_prefix(blob_prefix(submission.id))
    await repository.delete_attachments(session, submission.id)
    _move(submission, DELETED)
    submission.deleted_at = datetime.now(UTC)
    submission.metadata_key = submission.data_key = None
    submission.pending_metadata = None
    eventlog.record(session, submission, DELETE, {"reason": reason})
    await state.outbox.publish(
        session,
        SubmissionDeleted(case_id=str(submission.case_id), submission_id=str(submission.id), reason=reason),
    )
    state.metrics.retention.labels(f"delete-{reason}").inc()
    logger.info("submission deleted", extra={"submission_id": str(submission.id), "reason": reason})
