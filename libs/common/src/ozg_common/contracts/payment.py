"""Events of the payment service: a payment transaction opened, and its final state."""

from typing import Any, ClassVar, Literal

from ozg_common.contracts.topics import PAYMENT
from ozg_common.events import Event

PaymentStatus = Literal["PAYED", "CANCELED", "FAILED"]
"""The final statuses of a payment transaction (XBezahldienste)."""


class PaymentTransactionEvent(Event):
    """Something happened to a payment transaction. `case_id` is known when the sender named the
    case in the payment request; the transaction id always identifies the payment.

    A transaction's events share its partition key, so they are read in the order they happened.
    """

    case_id: str | None = None
    transaction_id: str
    origin_id: str
    endpoint_id: str
    request_id: str

    def partition_key(self) -> str:
        return self.case_id or self.transaction_id

    def subject(self) -> str:
        return f"case:{self.case_id}" if self.case_id else f"payment:{self.transaction_id}"


class PaymentOpened(PaymentTransactionEvent):
    """A transaction was opened at the provider (status INITIAL): its case waits for the outcome."""

    event_type = "payment.opened"
    topic = PAYMENT


class PaymentEvent(PaymentTransactionEvent):
    """A transaction reached a final state; paymentInformation as XBezahldienste defines it."""

    status: ClassVar[PaymentStatus]
    """The transaction's final status (XBezahldienste) that this event announces."""

    payment_information: dict[str, Any]


class PaymentPayed(PaymentEvent):
    """The citizen paid."""

    event_type = "payment.payed"
    topic = PAYMENT
    status = "PAYED"


class PaymentCanceled(PaymentEvent):
    """The citizen cancelled the payment."""

    event_type = "payment.canceled"
    topic = PAYMENT
    status = "CANCELED"


class PaymentFailed(PaymentEvent):
    """The payment failed or was abandoned until it timed out."""

    event_type = "payment.failed"
    topic = PAYMENT
    status = "FAILED"


PAYMENT_EVENTS: dict[str, type[PaymentEvent]] = {
    event.status: event for event in (PaymentPayed, PaymentCanceled, PaymentFailed)
}
"""The event each final status publishes; `event.status` answers the other way."""
