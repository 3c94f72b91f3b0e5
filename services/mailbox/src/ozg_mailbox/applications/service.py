"""The status monitor: what the events of submission, payment and the authority mean for an application.

Events of one case arrive on different topics, so in any order: whichever comes first creates the
application, and each later one fills in what it knows. Times come from the events, so the
timeline is right whatever the arrival order.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_mailbox.applications import repository
from ozg_mailbox.errors import ApplicationNotFound
from ozg_mailbox.messages import repository as messages
from ozg_mailbox.messages.repository import MessageHeader
from ozg_mailbox.messages.service import post_system_message
from ozg_mailbox.models import Application, Payment, StatusStep
from ozg_mailbox.notices.service import enqueue_notice
from ozg_mailbox.profile.service import create_mailbox_if_missing

STATUS_LABELS = {
    "INITIATED": "Antrag gestellt",
    "SUBMITTED": "Antrag eingereicht",
    "RECEIVED": "Bei der Behörde eingegangen",
    "PROCESSING": "In Bearbeitung",
    "ACTION_REQUIRED": "Ihre Mitwirkung ist erforderlich",
    "COMPLETED": "Abgeschlossen",
}

AWAITING_PAYMENT = "Der Antrag wird weitergeleitet, sobald die Zahlung eingegangen ist."

PAYMENT_FAILURES = {
    "CANCELED": (
        "Zahlung abgebrochen",
        "Die Zahlung für Ihren Antrag wurde abgebrochen. Der Antrag wird daher nicht an die "
        "Behörde weitergeleitet. Bitte stellen Sie den Antrag erneut, wenn Sie ihn weiterverfolgen möchten.",
    ),
    "FAILED": (
        "Zahlung fehlgeschlagen",
        "Die Zahlung für Ihren Antrag ist fehlgeschlagen. Der Antrag wird daher nicht an die "
        "Behörde weitergeleitet. Bitte stellen Sie den Antrag erneut, wenn Sie ihn weiterverfolgen möchten.",
    ),
}


async def application_for_case(session: AsyncSession, case_id: str) -> Application:
    """The application of a case with its steps; an event about a case not seen yet opens it."""
    return await repository.by_case(session, case_id) or _open(session, case_id)


async def of_mailbox(
    session: AsyncSession, mailbox_id: uuid.UUID, *, offset: int, limit: int
) -> tuple[Sequence[Application], int]:
    """One page of the mailbox's applications with their steps, newest first, and how many in all."""
    return await repository.list_for_mailbox(session, mailbox_id, offset=offset, limit=limit)


async def one_of_mailbox(
    session: AsyncSession, mailbox_id: uuid.UUID, application_id: uuid.UUID
) -> Application:
    application = await repository.get_for_mailbox(session, mailbox_id, application_id)
    if application is None:
        raise ApplicationNotFound()
    return application


async def trail_of_case(session: AsyncSession, case_id: str) -> tuple[Application, list[MessageHeader]]:
    """A case's application with its steps, and its messages' headers oldest first."""
    application = await repository.by_case(session, case_id)
    if application is None:
        raise ApplicationNotFound(f"The mailbox knows no application of case {case_id}.")
    return application, await messages.headers_of_application(session, application.id)


def _open(session: AsyncSession, case_id: str) -> Application:
    """A new application, without steps yet; the transaction's next flush writes it."""
    now = datetime.now(UTC)
    application = Application(
        id=uuid.uuid4(),
        case_id=case_id,
        status="INITIATED",
        payment_required=False,
        created_at=now,
        updated_at=now,
        steps=[],
    )
    repository.add(session, application)
    return application


def record_step(
    application: Application,
    status: str,
    occurred_at: datetime,
    note: str | None = None,
    *,
    once: bool = False,
) -> None:
    """Add a step to the timeline (its steps loaded); the latest step is the current status."""
    if once and any(step.status == status for step in application.steps):
        return
    application.steps.append(StatusStep(id=uuid.uuid4(), status=status, occurred_at=occurred_at, note=note))
    application.status = max(application.steps, key=StatusStep.sort_key).status
    application.updated_at = datetime.now(UTC)


async def attach_submission(
    session: AsyncSession,
    *,
    case_id: str,
    submission_id: str,
    destination_id: str,
    leika_key: str,
    service_name: str,
    authority_name: str | None,
    mailbox_id: uuid.UUID | None,
    payment_required: bool,
    payment_transaction_id: str | None,
    submitted_at: datetime,
) -> None:
    """The application was received by submission: it enters the citizen's status monitor."""
    # The common case, a case first seen with its submission, in one statement; any other goes on.
    steps = ["INITIATED"] if payment_required else ["INITIATED", "SUBMITTED"]
    now = datetime.now(UTC)
    if await repository.open_submitted(
        session,
        case_id=case_id,
        mailbox_id=mailbox_id,
        submission_id=submission_id,
        destination_id=destination_id,
        leika_key=leika_key,
        service_name=service_name,
        authority_name=authority_name,
        status=steps[-1],
        status_detail=AWAITING_PAYMENT if payment_required else None,
        payment_required=payment_required,
        payment_transaction_id=payment_transaction_id,
        created_at=min(now, submitted_at),
        updated_at=now,
        steps=steps,
        occurred_at=submitted_at,
    ):
        return
    known = await repository.by_case(session, case_id)
    # Read before anything changes, so that no query's autoflush writes a half-updated application.
    payment = await repository.payment_for(session, case_id, payment_transaction_id)
    if mailbox_id is not None and (known is None or known.mailbox_id is None):
        await create_mailbox_if_missing(session, mailbox_id)
        # Messages hang on the application's id: only an application known before can have any.
        if known is not None and await _has_messages(session, known):
            await enqueue_notice(session, mailbox_id)
    application = known or _open(session, case_id)
    application.mailbox_id = application.mailbox_id or mailbox_id
    application.submission_id = submission_id
    application.destination_id = destination_id
    application.leika_key = leika_key
    application.service_name = service_name
    application.authority_name = authority_name
    application.payment_required = payment_required
    application.payment_transaction_id = payment_transaction_id
    application.created_at = min(application.created_at, submitted_at)
    record_step(application, "INITIATED", submitted_at, once=True)
    if payment is not None:
        await apply_payment(session, application, payment)
    elif payment_required:
        application.status_detail = AWAITING_PAYMENT
    else:
        record_step(application, "SUBMITTED", submitted_at, once=True)


async def record_payment(
    session: AsyncSession,
    *,
    case_id: str | None,
    transaction_id: str,
    status: str,
    payment_information: dict[str, Any],
    occurred_at: datetime,
) -> None:
    """Keep the payment's outcome; apply it to its application if that is known already."""
    payment = await repository.payment(session, transaction_id)
    detail = payment_information.get("statusDetail")
    if payment is None:
        payment = Payment(transaction_id=transaction_id, status=status, occurred_at=occurred_at)
        repository.add(session, payment)
    payment.case_id = case_id or payment.case_id
    payment.status = status
    payment.status_detail = str(detail) if detail else None
    payment.occurred_at = occurred_at
    application = await repository.of_payment(session, case_id, transaction_id)
    if application is not None:
        await apply_payment(session, application, payment)


async def apply_payment(session: AsyncSession, application: Application, payment: Payment) -> None:
    """Paid: the application goes on. Canceled or failed: the citizen is told why it stops.

    A late PAYED after a failure is honoured (the provider has the last word on money).
    """
    if application.payment_status == payment.status:
        return
    application.payment_status = payment.status
    application.payment_transaction_id = application.payment_transaction_id or payment.transaction_id
    if payment.status == "PAYED":
        if application.outcome == "payment_failed":
            application.outcome = None
        application.status_detail = None
        # Paid before it was sent: the application counts as submitted when it arrived.
        arrived = [s.occurred_at for s in application.steps if s.status == "INITIATED"]
        at = max([payment.occurred_at, *arrived])
        record_step(application, "SUBMITTED", at, "Zahlung eingegangen", once=True)
    elif payment.status in PAYMENT_FAILURES:
        title, text = PAYMENT_FAILURES[payment.status]
        application.outcome = "payment_failed"
        application.status_detail = title + (f": {payment.status_detail}" if payment.status_detail else "")
        await post_system_message(session, application, title, text, payment.occurred_at)


async def record_acceptance(
    session: AsyncSession, case_id: str, destination_id: str, accepted_at: datetime
) -> None:
    application = await application_for_case(session, case_id)
    application.destination_id = application.destination_id or destination_id
    record_step(application, "RECEIVED", accepted_at, once=True)


async def record_rejection(
    session: AsyncSession,
    case_id: str,
    destination_id: str,
    rejected_at: datetime,
    problems: list[dict[str, Any]],
) -> None:
    """The authority refused the application: a status detail and a message say why."""
    application = await application_for_case(session, case_id)
    application.destination_id = application.destination_id or destination_id
    reasons = [str(p.get("detail") or p.get("title") or "") for p in problems]
    reasons = [reason for reason in reasons if reason]
    application.outcome = "rejected"
    application.status_detail = "Von der Behörde abgelehnt" + (f": {'; '.join(reasons)}" if reasons else "")
    application.updated_at = datetime.now(UTC)
    text = "Die Behörde hat Ihren Antrag nicht angenommen."
    if reasons:
        text += "\n\nBegründung:\n" + "\n".join(f"- {reason}" for reason in reasons)
    await post_system_message(session, application, "Antrag abgelehnt", text, rejected_at)


async def record_status(
    session: AsyncSession,
    case_id: str,
    destination_id: str,
    status: str,
    note: str | None,
    changed_at: datetime,
) -> None:
    application = await application_for_case(session, case_id)
    application.destination_id = application.destination_id or destination_id
    record_step(application, status, changed_at, note)
    if application.status == status:
        application.status_detail = note


async def _has_messages(session: AsyncSession, application: Application) -> bool:
    return await messages.count_for_application(session, application.id) > 0
