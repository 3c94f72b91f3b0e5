"""Consumers of payment, delivery and mailbox events; each runs in the transaction of its inbox row."""

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common import jose, security_events
from ozg_common.consumer import PoisonEvent
from ozg_common.contracts.delivery import CaseAccepted, CaseRejected, DeliveryDeadLettered, DeliverySucceeded
from ozg_common.contracts.mailbox import MailboxCitizenReplied
from ozg_common.contracts.payment import PaymentEvent, PaymentOpened
from ozg_common.contracts.submission import CitizenReplyReadyForDelivery
from ozg_common.events import CloudEvent
from ozg_common.security_events import ACCEPT, REJECT, InvalidSecurityEvent, SecurityEvent, SignatureInvalid
from ozg_submission.directory.repository import get_destination
from ozg_submission.directory.service import find_destination
from ozg_submission.eventlog.tokens import RefusedDecision, check_gateway_decision
from ozg_submission.lifecycle import machine, repository
from ozg_submission.lifecycle.collaborators import Collaborators
from ozg_submission.lifecycle.repository import READY_FOR_PICKUP
from ozg_submission.models import Submission, SubmissionStatus

logger = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Any, CloudEvent], Awaitable[None]]


async def _submission(session: AsyncSession, submission_id: str) -> Submission | None:
    try:
        key = uuid.UUID(submission_id)
    except ValueError:
        return None
    return await repository.get_submission(session, key, for_update=True)


OPEN = "INITIAL"
"""The XBezahldienste status of a transaction opened and not yet ended."""


async def on_payment_opened(session: AsyncSession, event: PaymentOpened, _: CloudEvent) -> None:
    """Remember an open transaction: its case's FIT-Connect submission, submitted while it is open,
    waits for its outcome (`machine.submit`). Its final event follows on the same partition."""
    if await repository.locked_payment(session, event.transaction_id) is not None:
        return
    payment = repository.add_payment(session, event.transaction_id)
    payment.case_id = event.case_id
    payment.status = OPEN
    payment.payment_information = {}
    payment.updated_at = datetime.now(UTC)


def payment_handler(state: Collaborators) -> Handler:
    async def handle(session: AsyncSession, event: PaymentEvent, _: CloudEvent) -> None:
        status = event.status
        payment = await repository.locked_payment(session, event.transaction_id)
        if payment is None:
            payment = repository.add_payment(session, event.transaction_id)
        elif payment.status == "PAYED" and status != "PAYED":
            # Money once received is never un-received by a late, out-of-order failure.
            logger.warning(
                "ignoring a payment failure after PAYED", extra={"transaction_id": event.transaction_id}
            )
            return
        payment.case_id = event.case_id
        payment.status = status
        payment.payment_information = event.payment_information
        payment.updated_at = datetime.now(UTC)
        await session.flush()
        waiting = await repository.awaiting_payment(
            session, case_id=event.case_id, transaction_id=event.transaction_id
        )
        for submission in waiting:
            if status == "PAYED":
                await machine.settle(session, state, submission, payment)
            else:
                machine.payment_failed(submission, status, event.transaction_id)
        if status == "PAYED" and not waiting:
            await _reconcile_late_payment(session, event)

    return handle


async def _reconcile_late_payment(session: AsyncSession, event: PaymentEvent) -> None:
    """A payment for an application we no longer hold must reach an operator, never vanish."""
    if not event.case_id:
        return
    try:
        case_id = uuid.UUID(event.case_id)
    except ValueError:
        return
    for submission in await repository.of_case(session, case_id):
        if submission.status == SubmissionStatus.DELETED:
            logger.error(
                "payment received for a deleted application: refund or reconcile",
                extra={"case_id": event.case_id, "transaction_id": event.transaction_id},
            )


def delivery_handler(state: Collaborators) -> Handler:
    """kop-gateway's outcomes, each one UPDATE of the submission (none where nothing changes)."""

    async def handle(
        session: AsyncSession, event: DeliverySucceeded | DeliveryDeadLettered, _: CloudEvent
    ) -> None:
        if event.kind != "submission":
            return
        try:
            submission_id = uuid.UUID(event.submission_id)
        except ValueError:
            return
        if isinstance(event, DeliveryDeadLettered):
            if await repository.record_delivery_error(session, submission_id, event.last_error[:2000]):
                logger.error("delivery dead-lettered", extra={"submission_id": event.submission_id})
        elif await _only_announced(session, event):
            # A callback only said "there is something to fetch": pickup is the destination's own GET.
            await repository.clear_delivery_error(session, submission_id)
        else:
            await machine.delivered(session, submission_id, event.delivered_at)

    return handle


async def _only_announced(session: AsyncSession, event: DeliverySucceeded) -> bool:
    """Was only the new-submissions callback delivered (the destination fetches the application)?"""
    if event.callback is not None:
        return event.callback
    # From a kop-gateway older than the field (events in flight during an upgrade): its Zustellkanal says.
    submission = await _submission(session, event.submission_id)
    destination = await get_destination(session, submission.destination_id) if submission else None
    return destination is not None and destination.zustellkanal.get("channel_type") == "fitconnect"


def decision_handler(state: Collaborators) -> Handler:
    """kop-gateway's announcement of a decision made through its return channel, logged as the SET
    the gateway signed under its own `iss`; one that does not verify is never logged, but parked."""

    async def handle(session: AsyncSession, event: CaseAccepted | CaseRejected, envelope: CloudEvent) -> None:
        if envelope.source == state.outbox.source:
            return  # our own announcement of a decision posted to the FIT-Connect API: recorded then
        submission = await _submission(session, event.submission_id)
        if submission is None or submission.status not in READY_FOR_PICKUP:
            return
        name = ACCEPT if isinstance(event, CaseAccepted) else REJECT
        at = event.accepted_at if isinstance(event, CaseAccepted) else event.rejected_at
        token = (event.security_event_token or "").strip()
        try:
            received = await _gateway_set(state, token)
            check_gateway_decision(
                received,
                issuer=state.settings.kop_gateway_issuer,
                decision=name,
                submission_id=submission.id,
                case_id=submission.case_id,
                authentication_tags=submission.authentication_tags,
            )
        except RefusedDecision as exc:
            state.metrics.decisions_refused.labels(exc.reason).inc()
            logger.error(
                "decision not logged: its SET is not kop-gateway's",
                extra={"submission_id": event.submission_id, "event_id": envelope.id, "reason": str(exc)},
            )
            raise PoisonEvent(str(exc)) from exc
        machine.decide(session, submission, name, at, token=token, jti=received.jti)

    return handle


async def _gateway_set(state: Collaborators, token: str) -> SecurityEvent:
    """The SET, following FIT-Connect's rules and verified with a key kop-gateway publishes (fetched
    again once for a `kid` it did not list before: the gateway may have a new key)."""
    if not token:
        raise RefusedDecision("missing", "the event carries no SET")
    try:
        keys = await state.gateway_keys.keys_for(security_events.read_header(token)["kid"])
        return await asyncio.to_thread(security_events.verify, token, keys)
    except SignatureInvalid as exc:
        raise RefusedDecision("signature", str(exc)) from exc
    except InvalidSecurityEvent as exc:
        raise RefusedDecision("rules", str(exc)) from exc


def reply_handler(state: Collaborators) -> Handler:
    async def handle(session: AsyncSession, event: MailboxCitizenReplied, _: CloudEvent) -> None:
        try:
            members = await repository.of_case(session, uuid.UUID(event.case_id))
        except ValueError:
            members = []
        if not members:
            logger.warning("citizen reply for an unknown case", extra={"case_id": event.case_id})
            return
        submission = max(members, key=lambda s: s.created_at)
        destination = await find_destination(session, event.destination_id or submission.destination_id)
        reply = {
            "replyId": event.reply_id,
            "inReplyTo": event.in_reply_to,
            "caseId": event.case_id,
            "submissionId": str(submission.id),
            "title": event.title,
            "content": event.content,
            "repliedAt": event.replied_at.isoformat(),
            "attachments": [a.model_dump(mode="json", by_alias=True) for a in event.attachments],
        }
        encrypted = await asyncio.to_thread(
            jose.encrypt,
            json.dumps(reply, ensure_ascii=False).encode(),
            state.destination_key(destination),
            content_type="application/json",
            kid=destination.encryption_kid,
        )
        await state.outbox.publish(
            session,
            CitizenReplyReadyForDelivery(
                case_id=event.case_id,
                reply_id=event.reply_id,
                submission_id=str(submission.id),
                destination_id=destination.destination_id,
                in_reply_to=event.in_reply_to,
                encrypted_reply=encrypted,
            ),
        )

    return handle
