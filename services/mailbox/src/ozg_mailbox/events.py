"""What mailbox publishes and what it consumes."""

from ozg_common.contracts.topics import DELIVERY, MAILBOX, PAYMENT, SUBMISSION

PRODUCES = (MAILBOX,)
CONSUMES = (SUBMISSION, PAYMENT, DELIVERY)
