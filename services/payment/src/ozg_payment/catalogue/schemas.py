"""What a sender reads to build a payment request."""

from ozg_payment.xbezahldienste import CamelModel, Money, TaxRate


class Fee(CamelModel):
    """One fee item as zufi's catalogue states it (its id and price go into a request's item)."""

    id: str
    description: str
    price: Money
    quantity: int
    tax_rate: TaxRate
    booking_data: dict[str, str]


class FeeSchedule(CamelModel):
    """A service's fees as the payment service knows them from zufi."""

    leika_key: str
    name: str
    payment_required: bool
    items: list[Fee]
