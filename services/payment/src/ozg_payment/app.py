"""The payment service: ePayment after XBezahldienste.

Senders (scope `send`) open a payment with `POST /paymenttransaction/{originatorId}/{endPointId}`
and send the citizen to `paymentInformation.transactionRedirectUrl`, the provider's checkout page.
The provider sends the citizen back through this service, which confirms the outcome with the
provider itself before it counts, then on to the sender's `redirectUrl`. Pending transactions are
re-checked periodically; a transaction left INITIAL past the timeout becomes FAILED. Final states
are published as `payment.payed|canceled|failed` events.

Operators (scope `admin`) list transactions by case and state at `GET /v1/admin/transactions`,
and those whose provider contradicted a final state at `GET /v1/admin/reconciliation`.

Error answers are the XBezahldienste error body: an RFC 9457 problem with the `errorCode`
(`VALIDATION_ERROR`, `CALCULATION_ERROR`, `PAYMENT_EXISTS`, `NO_VALID_ORIGINATOR_OR_ENDPOINT`,
`BOOKING_DATA_MISSING`, `FORBIDDEN`, `UNSPECIFIED`) and its `functionalText`.
"""

from pathlib import Path

import httpx
from fastapi import FastAPI

from ozg_common.contracts.zufi import ServiceChanged
from ozg_common.service import ConsumerSpec, ServiceRuntime, create_service_app
from ozg_payment.catalogue.endpoints import router as catalogue_router
from ozg_payment.catalogue.service import on_service_changed
from ozg_payment.errors import install_error_handler
from ozg_payment.events import CONSUMES, PRODUCES
from ozg_payment.metrics import PaymentMetrics
from ozg_payment.models import Model
from ozg_payment.providers.simulated.endpoints import api as simulated_api
from ozg_payment.providers.simulated.endpoints import checkout as simulated_checkout
from ozg_payment.providers.simulated.service import SimulatedProvider
from ozg_payment.providers.upstream import XBezahldiensteUpstream
from ozg_payment.settings import PaymentSettings
from ozg_payment.transactions.endpoints import router as transactions_router
from ozg_payment.transactions.reconciler import recheck_forever, refresh_gauges
from ozg_payment.transactions.service import Payments

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: PaymentSettings | None = None) -> FastAPI:
    settings = settings or PaymentSettings()
    runtime = ServiceRuntime(
        settings=settings,
        metadata=Model.metadata,
        migrations=MIGRATIONS,
        produces=PRODUCES,
        consumers=[
            ConsumerSpec(
                group_id="payment-catalogue", topics=CONSUMES, handlers={ServiceChanged: on_service_changed}
            )
        ],
    )
    http = httpx.AsyncClient(timeout=settings.provider_timeout)
    provider = XBezahldiensteUpstream(http, settings.upstream_url, api_key=settings.provider_api_key)
    payments = Payments(settings, provider, runtime.outbox, PaymentMetrics(runtime.metrics.registry))
    runtime.metrics.refreshers.append(lambda: refresh_gauges(runtime.database, payments))

    async def start_rechecks(runtime: ServiceRuntime) -> None:
        runtime.spawn(
            "payment-recheck", lambda: recheck_forever(runtime.database, payments, settings.recheck_interval)
        )

    async def close_http(runtime: ServiceRuntime) -> None:
        await http.aclose()

    routers = [transactions_router, catalogue_router]
    if settings.simulated_provider_enabled:
        routers += [simulated_api, simulated_checkout]
    app = create_service_app(
        runtime,
        title="ozg-router payment",
        description=__doc__ or "",
        routers=routers,
        on_startup=[start_rechecks],
        on_shutdown=[close_http],
    )
    app.state.payments = payments
    app.state.simulated_provider = SimulatedProvider(settings, http)
    install_error_handler(app)
    return app
