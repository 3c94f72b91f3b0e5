"""What kop-gateway publishes and what it consumes."""

from ozg_common.contracts.topics import DELIVERY, MAILBOX, SUBMISSION, ZUFI

PRODUCES = (DELIVERY,)
CONSUMES = (ZUFI, SUBMISSION, MAILBOX)
