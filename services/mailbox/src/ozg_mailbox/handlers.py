"""What the mailbox does with each event it consumes (one transaction with the inbox row each)."""

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.blobstore import BlobStore
from ozg_common.consumer import Handler
from ozg_common.contracts.delivery import CaseAccepted, CaseRejected, CaseReplyCreated, CaseStatusChanged
from ozg_common.contracts.payment import PaymentEvent
from ozg_common.contracts.submission import SubmissionSubmitted
from ozg_common.events import CloudEvent
from ozg_mailbox.applications import service as applications
from ozg_mailbox.messages import service as messages

logger = logging.getLogger(__name__)


async def on_submitted(session: AsyncSession, event: SubmissionSubmitted, envelope: CloudEvent) -> None:
    mailbox_id: uuid.UUID | None = None
    if event.mailbox_uuid:
        try:
            mailbox_id = uuid.UUID(event.mailbox_uuid)
        except ValueError:
            logger.warning("submission names a malformed mailbox uuid", extra={"case_id": event.case_id})
    await applications.attach_submission(
        session,
        case_id=event.case_id,
        submission_id=event.submission_id,
        destination_id=event.destination_id,
        leika_key=event.leika_key,
        service_name=event.service_name,
        authority_name=event.authority_name,
        mailbox_id=mailbox_id,
        payment_required=event.payment_required,
        payment_transaction_id=event.payment_transaction_id,
        submitted_at=event.submitted_at,
    )


async def on_payment(session: AsyncSession, event: PaymentEvent, envelope: CloudEvent) -> None:
    await applications.record_payment(
        session,
        case_id=event.case_id,
        transaction_id=event.transaction_id,
        status=event.status,
        payment_information=event.payment_information,
        occurred_at=envelope.time,
    )


async def on_accepted(session: AsyncSession, event: CaseAccepted, envelope: CloudEvent) -> None:
    await applications.record_acceptance(session, event.case_id, event.destination_id, event.accepted_at)


async def on_rejected(session: AsyncSession, event: CaseRejected, envelope: CloudEvent) -> None:
    await applications.record_rejection(
        session, event.case_id, event.destination_id, event.rejected_at, event.problems
    )


async def on_status_changed(session: AsyncSession, event: CaseStatusChanged, envelope: CloudEvent) -> None:
    await applications.record_status(
        session, event.case_id, event.destination_id, event.status, event.note, event.changed_at
    )


def on_reply_created(blobs: BlobStore) -> Handler:
    async def handle(session: AsyncSession, event: CaseReplyCreated, envelope: CloudEvent) -> None:
        application = await applications.application_for_case(session, event.case_id)
        application.destination_id = application.destination_id or event.destination_id
        await messages.receive_authority_message(session, blobs, application, event)

    return handle
