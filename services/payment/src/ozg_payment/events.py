"""What payment publishes and what it consumes."""

from ozg_common.contracts.payment import PaymentCanceled, PaymentFailed, PaymentPayed
from ozg_common.contracts.topics import PAYMENT, ZUFI
from ozg_common.contracts.zufi import ServiceChanged

PRODUCES = (PAYMENT,)
"""`payment.payed`, `payment.canceled`, `payment.failed`, keyed by case id (else transaction id)."""
CONSUMES = (ZUFI,)
"""`service.changed`: the fee catalogue."""

PUBLISHED_EVENTS = (PaymentPayed, PaymentCanceled, PaymentFailed)
CONSUMED_EVENTS = (ServiceChanged,)
