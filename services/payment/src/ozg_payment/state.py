"""The payment service's app state: what its endpoints, consumer and re-check loop share."""

from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, Request

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
    simulated_provider: SimulatedProvider
    _payments: Payments | None = None

    @classmethod
    def build(cls, settings: PaymentSettings) -> "PaymentState":
        http = httpx.AsyncClient(timeout=settings.provider_timeout)
        return cls(
            settings=settings,
            http=http,
            provider=XBezahldiensteUpstream(http, settings.upstream_url, api_key=settings.provider_api_key),
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

    async def close(self) -> None:
        await self.http.aclose()


async def _state(request: Request) -> PaymentState:
    state: PaymentState = request.app.state.payment
    return state


StateDep = Annotated[PaymentState, Depends(_state)]
"""The running payment service's state, for endpoints."""
