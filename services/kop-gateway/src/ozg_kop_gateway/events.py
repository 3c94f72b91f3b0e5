"""What kop-gateway publishes, and the consumers of what it reads."""

from ozg_common.contracts.delivery import (
    CaseAccepted,
    CaseRejected,
)
from ozg_common.contracts.mailbox import MailboxMessageRead
from ozg_common.contracts.submission import (
    CitizenReplyReadyForDelivery,
    SubmissionPickupReminder,
    SubmissionReadyForDelivery,
)
from ozg_common.contracts.topics import DELIVERY, MAILBOX, SUBMISSION, ZUFI
from ozg_common.contracts.zufi import DestinationChanged
from ozg_common.outbox import event_source
from ozg_common.service import ConsumerSpec
from ozg_kop_gateway.cases.service import decision_recorder
from ozg_kop_gateway.deliveries.intake import DeliveryIntake
from ozg_kop_gateway.deliveries.reminders import PickupReminders
from ozg_kop_gateway.destinations.service import apply_destination_changed
from ozg_kop_gateway.state import GatewayState

PRODUCES = (DELIVERY,)
"""Delivery outcomes (`DeliverySucceeded`, `DeliveryDeadLettered`) and the authorities' answers
(`CaseAccepted`, `CaseRejected`, `CaseStatusChanged`, `CaseReplyCreated`)."""


def consumers(state: GatewayState) -> list[ConsumerSpec]:
    """One group for zufi's destinations (the read model), one for the decisions posted at
    submission, one for the events that schedule a delivery."""
    intake = DeliveryIntake(state.retry_horizon)
    reminders = PickupReminders(intake)
    decisions = decision_recorder(event_source(state.settings.service_name))
    return [
        ConsumerSpec(
            group_id="kop-gateway-destinations",
            topics=[ZUFI],
            handlers={DestinationChanged: apply_destination_changed},
        ),
        ConsumerSpec(
            group_id="kop-gateway-decisions",
            topics=[DELIVERY],
            handlers={CaseAccepted: decisions, CaseRejected: decisions},
        ),
        ConsumerSpec(
            group_id="kop-gateway-deliveries",
            topics=[SUBMISSION, MAILBOX],
            handlers={
                SubmissionReadyForDelivery: intake.on_submission_ready,
                CitizenReplyReadyForDelivery: intake.on_citizen_reply,
                MailboxMessageRead: intake.on_message_read,
                SubmissionPickupReminder: reminders.on_pickup_reminder,
            },
        ),
    ]
