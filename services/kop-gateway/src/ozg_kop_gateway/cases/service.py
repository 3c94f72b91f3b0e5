"""The authority's answers about a case, turned into `case.*` events."""

import asyncio
import base64
import binascii
import hashlib
import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.auth import Principal
from ozg_common.consumer import Handler
from ozg_common.contracts.delivery import (
    CaseAccepted,
    CaseRejected,
    CaseReplyCreated,
    CaseStatusChanged,
    MessageAttachment,
)
from ozg_common.events import CloudEvent
from ozg_common.outbox import Outbox
from ozg_common.security_events import ACCEPT, REJECT, EventSigner, OwnEvent
from ozg_kop_gateway.cases import repository
from ozg_kop_gateway.cases.schemas import Acknowledgement, Reply, StatusUpdate
from ozg_kop_gateway.destinations import repository as destinations
from ozg_kop_gateway.errors import CaseAlreadyDecided, CaseNotFound, InvalidAttachment, PayloadTooLarge
from ozg_kop_gateway.models import Case


async def own_case(session: AsyncSession, principal: Principal, case_id: str, *, lock: bool = False) -> Case:
    """The case, if the caller's destination received it; otherwise it does not exist for them."""
    case = await repository.get(session, case_id, for_update=lock)
    if case is None or case.destination_id not in principal.scoped_values("destination:"):
        raise CaseNotFound(f"No case {case_id} for your destination.")
    return case


async def acknowledge(
    session: AsyncSession, outbox: Outbox, signer: EventSigner, case: Case, ack: Acknowledgement
) -> None:
    """Accept or reject once; repeating the same decision is harmless, changing it is a conflict.

    The decision travels as a SET the gateway signs under its own `iss` (the authority has no
    signing key of its own here): an accept repeats the authentication tags of the submission as
    it was delivered, a reject carries the problems."""
    if case.decision is not None:
        if case.decision != ack.decision:
            raise CaseAlreadyDecided(f"Case {case.id} was already answered with {case.decision!r}.")
        return
    case.decision = ack.decision
    now = datetime.now(UTC)
    problems = [p.model_dump(exclude_none=True) for p in ack.problems]
    details = (
        {"authenticationTags": case.authentication_tags or {}}
        if ack.decision == "accept"
        else {"problems": problems}
    )
    event = OwnEvent(
        event=ACCEPT if ack.decision == "accept" else REJECT,
        submission_id=uuid.UUID(case.submission_id),
        case_id=uuid.UUID(case.id),
        jti=uuid.uuid4(),
        issued_at=now,
        details=details,
    )
    token = await asyncio.to_thread(signer.sign, event)
    if ack.decision == "accept":
        await outbox.publish(
            session,
            CaseAccepted(
                case_id=case.id,
                submission_id=case.submission_id,
                destination_id=case.destination_id,
                accepted_at=now,
                security_event_token=token,
            ),
        )
    else:
        await outbox.publish(
            session,
            CaseRejected(
                case_id=case.id,
                submission_id=case.submission_id,
                destination_id=case.destination_id,
                rejected_at=now,
                problems=problems,
                security_event_token=token,
            ),
        )


def decision_recorder(own_source: str) -> Handler:
    """Note decisions an authority posted at submission's FIT-Connect API, so that the return channel
    answers a second, different decision with a conflict and never announces a decision twice."""

    async def record(session: AsyncSession, event: CaseAccepted | CaseRejected, envelope: CloudEvent) -> None:
        if envelope.source == own_source:
            return
        case = await repository.get(session, event.case_id, for_update=True)
        if case is not None and case.decision is None:
            case.decision = "accept" if isinstance(event, CaseAccepted) else "reject"

    return record


async def change_status(session: AsyncSession, outbox: Outbox, case: Case, update: StatusUpdate) -> None:
    await outbox.publish(
        session,
        CaseStatusChanged(
            case_id=case.id,
            destination_id=case.destination_id,
            status=update.status,
            note=update.note,
            changed_at=datetime.now(UTC),
        ),
    )


async def send_reply(
    session: AsyncSession, outbox: Outbox, case: Case, reply: Reply, *, max_attachment_bytes: int
) -> CaseReplyCreated:
    """Check each attachment (base64, size), hash it, and publish the message for the mailbox."""
    attachments = []
    for item in reply.attachments:
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except binascii.Error as exc:
            raise InvalidAttachment(f"{item.filename}: contentBase64 is not base64.") from exc
        if len(content) > max_attachment_bytes:
            raise PayloadTooLarge(f"{item.filename} is larger than {max_attachment_bytes} bytes.")
        attachments.append(
            MessageAttachment(
                attachment_id=str(uuid.uuid4()),
                filename=item.filename,
                mime_type=item.mime_type,
                size=len(content),
                sha512=hashlib.sha512(content).hexdigest(),
                content_base64=base64.b64encode(content).decode(),
            )
        )
    destination = await destinations.get(session, case.destination_id)
    # Read receipts travel back to where the authority takes deliveries.
    receipt_address = destination.url if destination and destination.channel_type == "webservice" else None
    event = CaseReplyCreated(
        case_id=case.id,
        message_id=str(uuid.uuid4()),
        destination_id=case.destination_id,
        sender=destination.name if destination else case.destination_id,
        title=reply.title,
        content=reply.content,
        attachments=attachments,
        reply_address=reply.reply_address,
        retrieval_confirmation_address=receipt_address,
        created_at=datetime.now(UTC),
    )
    await outbox.publish(session, event)
    return event
