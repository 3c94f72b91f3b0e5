"""The one interface every payment service provider adapter implements."""

from dataclasses import dataclass
from typing import Protocol

from ozg_payment.xbezahldienste import PaymentMethod, ProviderPaymentRequest, TransactionStatus


class ProviderError(Exception):
    """The provider could not be asked (down, timed out) or answered nonsense."""


class ProviderRefused(ProviderError):
    """The provider answered the request with a client error; retrying the same will not help."""


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
