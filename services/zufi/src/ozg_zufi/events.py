"""What zufi publishes and what it consumes."""

from ozg_common.contracts.topics import ZUFI

PRODUCES = (ZUFI,)
CONSUMES = ()
