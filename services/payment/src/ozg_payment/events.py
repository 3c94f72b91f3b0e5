"""What payment publishes, and the consumer of what it reads."""

from ozg_common.contracts.topics import PAYMENT, ZUFI
from ozg_common.contracts.zufi import ServiceChanged
from ozg_common.service import ConsumerSpec
from ozg_payment.catalogue.service import on_service_changed
from ozg_payment.state import PaymentState

PRODUCES = (PAYMENT,)
"""`payment.payed`, `payment.canceled`, `payment.failed`, keyed by case id (else transaction id)."""


def consumers(state: PaymentState) -> list[ConsumerSpec]:
    """One group: zufi's `service.changed` keeps the fee catalogue (a read model, no state needed)."""
    return [
        ConsumerSpec(
            group_id="payment-catalogue", topics=[ZUFI], handlers={ServiceChanged: on_service_changed}
        )
    ]
