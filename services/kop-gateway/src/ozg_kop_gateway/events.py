"""What kop-gateway publishes and what it consumes."""

from ozg_common.contracts.delivery import (
    CaseAccepted,
    CaseRejected,
    CaseReplyCreated,
    CaseStatusChanged,
    DeliveryDeadLettered,
    DeliverySucceeded,
)
from ozg_common.contracts.mailbox import MailboxMessageRead
from ozg_common.contracts.submission import (
    CitizenReplyReadyForDelivery,
    SubmissionPickupReminder,
    SubmissionReadyForDelivery,
)
from ozg_common.contracts.topics import DELIVERY, MAILBOX, SUBMISSION, ZUFI
from ozg_common.contracts.zufi import DestinationChanged

PRODUCES = (DELIVERY,)
CONSUMES = (ZUFI, SUBMISSION, MAILBOX, DELIVERY)

__all__ = [
    "CONSUMES",
    "PRODUCES",
    "CaseAccepted",
    "CaseRejected",
    "CaseReplyCreated",
    "CaseStatusChanged",
    "CitizenReplyReadyForDelivery",
    "DeliveryDeadLettered",
    "DeliverySucceeded",
    "DestinationChanged",
    "MailboxMessageRead",
    "SubmissionPickupReminder",
    "SubmissionReadyForDelivery",
]
