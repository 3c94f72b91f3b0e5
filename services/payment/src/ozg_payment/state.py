"""The payment service's app state: what its endpoints, consumer and re-check loop share."""

from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, Request

from ozg_common.health import ReadinessCheck
from ozg_common.service import ServiceRuntime
from ozg_payment.metrics import PaymentMetrics
from ozg_payment.providers.simulated.service import SimulatedProvider
from ozg_payment.providers.upstream import XBezahldiensteUpstream
from ozg_payment.settings import PaymentSettings
from ozg_payment.transactions.reconciler import refresh_gauges
from ozg_payment.transactions.service import Payments


@dataclass
class PaymentState:
    """payment's long-lived collaborators, built once per app.

    Built before the runtime (its consumers are wired from it), then attached to it for what only
    the runtime has: the outbox, the database and the metrics registry.
    """

    settings: PaymentSettings
    http: httpx.AsyncClient
    """The simulated provider's client for its notifications."""
    provider: XBezahldiensteUpstream
    """The provider's adapter, with an HTTP client of its own (its login, its TLS context)."""
    simulated_provider: SimulatedProvider
    _payments: Payments | None = None

    @classmethod
    def build(cls, settings: PaymentSettings) -> "PaymentState":
        http = httpx.AsyncClient(timeout=settings.provider_timeout)
        return cls(
            settings=settings,
            http=http,
            provider=XBezahldiensteUpstream.from_settings(settings),
            simulated_provider=SimulatedProvider(settings, http),
        )

    def attach(self, runtime: ServiceRuntime) -> None:
        payments = Payments(
            self.settings, self.provider, runtime.outbox, PaymentMetrics(runtime.metrics.registry)
        )
        runtime.metrics.refreshers.append(lambda: refresh_gauges(runtime.database, payments))
        self._payments = payments

    @property
    def payments(self) -> Payments:
        assert self._payments is not None, "attach the runtime first"
        return self._payments

    def readiness(self) -> dict[str, ReadinessCheck]:
        """A provider of its own must answer for /readyz; the simulated one is this process."""
        if not self.settings.provider_url:
            return {}
        originator, endpoint = (
            self.settings.provider_status_originator_id,
            self.settings.provider_status_endpoint_id,
        )

        async def provider_problem() -> str | None:
            if await self.provider.reachable(originator, endpoint):
                return None
            return f"the payment provider at {self.settings.provider_url} does not answer"

        return {"provider": provider_problem}

    async def close(self) -> None:
        await self.provider.aclose()
        await self.http.aclose()


async def _state(request: Request) -> PaymentState:
    state: PaymentState = request.app.state.payment
    return state


StateDep = Annotated[PaymentState, Depends(_state)]
"""The running payment service's state, for endpoints."""
