"""What submission publishes (`PRODUCES`), and `consumers(state)`, which wires every consumer."""

from ozg_common.contracts.delivery import CaseAccepted, CaseRejected, DeliveryDeadLettered, DeliverySucceeded
from ozg_common.contracts.mailbox import MailboxCitizenReplied
from ozg_common.contracts.payment import PaymentCanceled, PaymentFailed, PaymentOpened, PaymentPayed
from ozg_common.contracts.topics import DELIVERY, MAILBOX, PAYMENT, SUBMISSION, ZUFI
from ozg_common.contracts.zufi import DestinationChanged, ServiceChanged
from ozg_common.service import ConsumerSpec
from ozg_submission.directory.handlers import on_destination_changed, on_service_changed
from ozg_submission.lifecycle.handlers import (
    decision_handler,
    delivery_handler,
    on_payment_opened,
    payment_handler,
    reply_handler,
)
from ozg_submission.state import SubmissionState

PRODUCES = (SUBMISSION, DELIVERY)
"""The topics submission publishes to: its own, and `delivery` for the decisions posted to it."""


def consumers(state: SubmissionState) -> list[ConsumerSpec]:
    """One group for the read model (replayed from offset 0), one for the lifecycle."""
    payments = payment_handler(state)
    deliveries = delivery_handler(state)
    decisions = decision_handler(state)
    return [
        ConsumerSpec(
            group_id="submission-directory",
            topics=[ZUFI],
            handlers={DestinationChanged: on_destination_changed, ServiceChanged: on_service_changed},
        ),
        ConsumerSpec(
            group_id="submission-lifecycle",
            topics=[PAYMENT, DELIVERY, MAILBOX],
            handlers={
                PaymentOpened: on_payment_opened,
                PaymentPayed: payments,
                PaymentCanceled: payments,
                PaymentFailed: payments,
                DeliverySucceeded: deliveries,
                DeliveryDeadLettered: deliveries,
                CaseAccepted: decisions,
                CaseRejected: decisions,
                MailboxCitizenReplied: reply_handler(state),
            },
        ),
    ]
