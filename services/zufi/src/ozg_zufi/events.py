"""What zufi publishes (`zufi.events`: destination.changed, service.changed) and the Kafka consumers
it runs: none, as zufi is the source of its records."""

from ozg_common.contracts.topics import ZUFI
from ozg_common.service import ConsumerSpec
from ozg_zufi.state import ZufiState

PRODUCES = (ZUFI,)
CONSUMES = ()


def consumers(state: ZufiState) -> list[ConsumerSpec]:
    """Every Kafka consumer of zufi: it reads no topic (its records come from its admin API)."""
    return []
