"""Annotated dependencies the routers share."""

from typing import Annotated

from fastapi import Depends, Request

from ozg_common.auth import Principal, require_scope
from ozg_payment.transactions.service import Payments


async def _payments(request: Request) -> Payments:
    payments: Payments = request.app.state.payments
    return payments


PaymentsDep = Annotated[Payments, Depends(_payments)]
SenderDep = Annotated[Principal, Depends(require_scope("send", "admin"))]
"""Senders (online services) create and read payments; admins may read every one."""
AdminDep = Annotated[Principal, Depends(require_scope("admin"))]
