"""Events of the payment service: final states of a payment transaction."""

from typing import Any

from ozg_common.contracts.submission import CaseEvent
from ozg_common.contracts.topics import PAYMENT


class PaymentEvent(CaseEvent):
    """A transaction reached a final state; paymentInformation as XBezahldienste defines it."""

    transaction_id: str
    origin_id: str
    endpoint_id: str
    request_id: str
    payment_information: dict[str, Any]


class PaymentPayed(PaymentEvent):
    """The citizen paid."""

    event_type = "payment.payed"
    topic = PAYMENT


class PaymentCanceled(PaymentEvent):
    """The citizen cancelled the payment."""

    event_type = "payment.canceled"
    topic = PAYMENT


class PaymentFailed(PaymentEvent):
    """The payment failed or was abandoned until it timed out."""

    event_type = "payment.failed"
    topic = PAYMENT
