"""Pickup reminders (FIT-Connect: days 3 and 9): callback-mode destinations get the new-submissions
callback again, signed and retried like the first one.

Webservice destinations took the whole application when it was delivered (or its dead letter waits
for an operator's replay): a reminder has nothing to add for them.
"""

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.contracts.submission import SubmissionPickupReminder
from ozg_common.events import CloudEvent
from ozg_kop_gateway.deliveries import repository
from ozg_kop_gateway.deliveries.intake import DeliveryIntake
from ozg_kop_gateway.destinations import repository as destinations
from ozg_kop_gateway.models import DeliveryKind, DeliveryState

logger = logging.getLogger(__name__)


class PickupReminders:
    """Turns `submission.pickup_reminder` into another callback delivery."""

    def __init__(self, intake: DeliveryIntake) -> None:
        self.intake = intake

    async def on_pickup_reminder(
        self, session: AsyncSession, event: SubmissionPickupReminder, source: CloudEvent
    ) -> None:
        destination = await destinations.get(session, event.destination_id)
        if destination is None or destination.channel_type != "fitconnect":
            logger.info(
                "pickup reminder for a destination not in callback mode",
                extra={"destination_id": event.destination_id, "event_id": source.id},
            )
            return
        first = await repository.latest_submission_delivery(session, event.case_id, event.submission_id)
        if first is not None and first.state == DeliveryState.PENDING:
            return  # the callback is still being retried: that is the reminder
        await self.intake.schedule(
            session,
            source,
            kind=DeliveryKind.SUBMISSION,
            destination_id=event.destination_id,
            case_id=event.case_id,
            submission_id=event.submission_id,
            # The first delivery's envelope where we have it: should the destination switch to a
            # webservice before the attempt, it still receives the whole application.
            payload=first.payload
            if first is not None
            else {
                "destinationId": event.destination_id,
                "submissionId": event.submission_id,
                "caseId": event.case_id,
            },
        )
