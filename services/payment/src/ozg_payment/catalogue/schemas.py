"""What a sender reads to build a payment request."""

from ozg_payment.xbezahldienste import CamelModel, PaymentItem


class FeeSchedule(CamelModel):
    """A service's fees as the payment service knows them from zufi."""

    leika_key: str
    name: str
    payment_required: bool
    items: list[PaymentItem]
