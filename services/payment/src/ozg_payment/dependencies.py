"""Annotated dependencies the routers share."""

from typing import Annotated

from fastapi import Depends, Request

from ozg_payment.transactions.service import Payments


async def _payments(request: Request) -> Payments:
    payments: Payments = request.app.state.payments
    return payments


PaymentsDep = Annotated[Payments, Depends(_payments)]
