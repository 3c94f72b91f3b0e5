"""Deliveries are born here: one per consumed event, in the transaction that records the event."""

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.contracts.mailbox import MailboxMessageRead
from ozg_common.contracts.submission import CitizenReplyReadyForDelivery, SubmissionReadyForDelivery
from ozg_common.events import CloudEvent
from ozg_kop_gateway.cases import repository as cases
from ozg_kop_gateway.deliveries import envelope, repository
from ozg_kop_gateway.destinations import repository as destinations
from ozg_kop_gateway.models import DeliveryKind, DeliveryState

logger = logging.getLogger(__name__)


class DeliveryIntake:
    """Event handlers that schedule a delivery (due at once) with its retry horizon."""

    def __init__(self, horizon: timedelta) -> None:
        self.horizon = horizon

    async def on_submission_ready(
        self, session: AsyncSession, event: SubmissionReadyForDelivery, source: CloudEvent
    ) -> None:
        # Every destination takes the application (callback-mode ones as the callback), and the
        # first delivery of a case decides which destination may answer it.
        delivery = self._delivery(
            source,
            kind=DeliveryKind.SUBMISSION,
            destination_id=event.destination_id,
            case_id=event.case_id,
            submission_id=event.submission_id,
            payload=envelope.submission_payload(event),
        )
        await repository.add_with_case(session, delivery, event.authentication_tags)

    async def on_citizen_reply(
        self, session: AsyncSession, event: CitizenReplyReadyForDelivery, source: CloudEvent
    ) -> None:
        await self.schedule(
            session,
            source,
            kind=DeliveryKind.REPLY,
            destination_id=event.destination_id,
            case_id=event.case_id,
            submission_id=event.submission_id,
            payload=envelope.reply_payload(event),
        )

    async def on_message_read(
        self, session: AsyncSession, event: MailboxMessageRead, source: CloudEvent
    ) -> None:
        case = await cases.get(session, event.case_id)
        if case is None or case.destination_id != event.destination_id:
            # Not a message an authority sent through this gateway: nobody here to tell.
            logger.info("read receipt for a case this gateway did not deliver", extra={"event_id": source.id})
            return
        await self.schedule(
            session,
            source,
            kind=DeliveryKind.READ_RECEIPT,
            destination_id=event.destination_id,
            case_id=event.case_id,
            submission_id=case.submission_id,
            payload=envelope.read_receipt_payload(event, case.submission_id),
        )

    async def schedule(
        self,
        session: AsyncSession,
        source: CloudEvent,
        *,
        kind: DeliveryKind,
        destination_id: str,
        case_id: str,
        submission_id: str | None,
        payload: dict[str, Any],
    ) -> None:
        """A delivery due at once, unique per source event (a redelivered event adds none)."""
        if kind is not DeliveryKind.SUBMISSION:
            destination = await destinations.get(session, destination_id)
            if destination and destination.channel_type == "fitconnect":
                # Callback-mode authorities fetch everything through submission's subscriber API.
                return
        await repository.add(
            session,
            self._delivery(
                source,
                kind=kind,
                destination_id=destination_id,
                case_id=case_id,
                submission_id=submission_id,
                payload=payload,
            ),
        )

    def _delivery(
        self,
        source: CloudEvent,
        *,
        kind: DeliveryKind,
        destination_id: str,
        case_id: str,
        submission_id: str | None,
        payload: dict[str, Any],
    ) -> dict[str, Any]:
        """The row of a new delivery, pending and due now."""
        now = datetime.now(UTC)
        return {
            "id": uuid.uuid4(),
            "kind": kind,
            "destination_id": destination_id,
            "case_id": case_id,
            "submission_id": submission_id,
            "source_event_id": source.id,
            "payload": payload,
            "state": DeliveryState.PENDING,
            "attempt_count": 0,
            "next_attempt_at": now,
            "expires_at": now + self.horizon,
            "event_time": source.time,
            "created_at": now,
        }
