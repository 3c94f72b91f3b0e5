"""What submission publishes and what it consumes."""

from ozg_common.contracts.topics import DELIVERY, MAILBOX, PAYMENT, SUBMISSION, ZUFI

PRODUCES = (SUBMISSION,)
CONSUMES = (ZUFI, PAYMENT, DELIVERY, MAILBOX)
