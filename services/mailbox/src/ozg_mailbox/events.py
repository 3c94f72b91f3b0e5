"""What mailbox publishes and what it consumes."""

from ozg_common.blobstore import BlobStore
from ozg_common.contracts.delivery import CaseAccepted, CaseRejected, CaseReplyCreated, CaseStatusChanged
from ozg_common.contracts.payment import PaymentCanceled, PaymentFailed, PaymentPayed
from ozg_common.contracts.submission import SubmissionSubmitted
from ozg_common.contracts.topics import DELIVERY, MAILBOX, PAYMENT, SUBMISSION
from ozg_common.service import ConsumerSpec
from ozg_mailbox import handlers

PRODUCES = (MAILBOX,)
"""`mailbox.message_read` (read receipts) and `mailbox.citizen_replied`."""
CONSUMES = (SUBMISSION, PAYMENT, DELIVERY)


def consumers(blobs: BlobStore) -> list[ConsumerSpec]:
    """One group for all topics: a case's events are applied by one member, one at a time."""
    return [
        ConsumerSpec(
            group_id="mailbox-intake",
            topics=CONSUMES,
            handlers={
                SubmissionSubmitted: handlers.on_submitted,
                PaymentPayed: handlers.on_payment,
                PaymentCanceled: handlers.on_payment,
                PaymentFailed: handlers.on_payment,
                CaseAccepted: handlers.on_accepted,
                CaseRejected: handlers.on_rejected,
                CaseStatusChanged: handlers.on_status_changed,
                CaseReplyCreated: handlers.on_reply_created(blobs),
            },
        )
    ]
