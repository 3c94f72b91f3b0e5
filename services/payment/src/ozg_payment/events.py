"""What payment publishes and what it consumes."""

from ozg_common.contracts.topics import PAYMENT, ZUFI

PRODUCES = (PAYMENT,)
CONSUMES = (ZUFI,)
