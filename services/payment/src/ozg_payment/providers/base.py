"""The one interface every payment service provider adapter implements."""

from dataclasses import dataclass
from typing import Protocol

from ozg_payment.errors import ErrorCode
from ozg_payment.xbezahldienste import PaymentMethod, ProviderPaymentRequest, TransactionStatus


class ProviderError(Exception):
    """The provider could not be asked (down, timed out) or answered nonsense."""


class ProviderRefused(ProviderError):
    """The provider answered with an XBezahldienste error; retrying the same will not help."""

    def __init__(self, code: ErrorCode, functional_text: str, status: int) -> None:
        super().__init__(f"HTTP {status} {code}: {functional_text}")
        self.code = code
        self.functional_text = functional_text
        self.status = status


@dataclass(frozen=True)
class ProviderTransaction:
    """What the provider says about one transaction: the only source of truth for its outcome."""

    provider_transaction_id: str
    status: TransactionStatus
    checkout_url: str | None = None
    payment_method: PaymentMethod | None = None
    status_detail: str | None = None


class PaymentProvider(Protocol):
    """A payment service provider (ePayBL, a PSP gateway, the simulated one)."""

    async def create(
        self, originator_id: str, endpoint_id: str, request: ProviderPaymentRequest
    ) -> ProviderTransaction:
        """Open a transaction at the provider; the answer carries the checkout URL."""
        ...

    async def status(
        self, originator_id: str, endpoint_id: str, provider_transaction_id: str
    ) -> ProviderTransaction:
        """Ask the provider for the transaction's current state (server-side confirmation)."""
        ...

    async def healthy(self, originator_id: str, endpoint_id: str) -> bool:
        """True when the provider answers its status check for this originator and endpoint."""
        ...
