"""The payment service: ePayment after XBezahldienste.

Senders (scope `send`) open a payment with `POST /paymenttransaction/{originatorId}/{endPointId}`
and send the citizen to `paymentInformation.transactionRedirectUrl`, the provider's checkout page.
The provider sends the citizen back through this service, which confirms the outcome with the
provider itself before it counts, then on to the sender's `redirectUrl`. Pending transactions are
re-checked periodically; a transaction left INITIAL past the timeout becomes FAILED. Final states
are published as `payment.payed|canceled|failed` events.

A requestId opens one transaction: sent again it is `PAYMENT_EXISTS`. A portal that timed out
waiting for its POST sends it again unchanged; the PAYMENT_EXISTS answer names the transaction
(`transactionId`, `Location`), whose status the portal then reads (GET) and continues from, so
nothing is charged twice.

Operators (scope `admin`) list transactions by case and state at `GET /v1/admin/transactions`;
`GET /v1/admin/reconciliation` is the cash office's report per day and Kassenzeichen (JSON or
CSV): what was paid, what is still INITIAL past its timeout, what a late PAYED turned round.

Error answers are the XBezahldienste error body: an RFC 9457 problem with the `errorCode`
(`VALIDATION_ERROR`, `CALCULATION_ERROR`, `PAYMENT_EXISTS`, `NO_VALID_ORIGINATOR_OR_ENDPOINT`,
`BOOKING_DATA_MISSING`, `FORBIDDEN`, `UNSPECIFIED`) and its `functionalText`.
"""

from pathlib import Path

from fastapi import FastAPI

from ozg_common.service import ServiceRuntime, create_service_app
from ozg_payment.catalogue.endpoints import router as catalogue_router
from ozg_payment.errors import install_error_handler
from ozg_payment.events import PRODUCES, consumers
from ozg_payment.models import Model
from ozg_payment.providers.simulated.endpoints import api as simulated_api
from ozg_payment.providers.simulated.endpoints import checkout as simulated_checkout
from ozg_payment.settings import PaymentSettings
from ozg_payment.state import PaymentState
from ozg_payment.transactions.endpoints import router as transactions_router
from ozg_payment.transactions.reconciler import recheck_forever

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: PaymentSettings | None = None) -> FastAPI:
    settings = settings or PaymentSettings()
    state = PaymentState.build(settings)
    runtime = ServiceRuntime(
        settings=settings,
        metadata=Model.metadata,
        migrations=MIGRATIONS,
        produces=PRODUCES,
        consumers=consumers(state),
    )
    state.attach(runtime)

    async def start_rechecks(runtime: ServiceRuntime) -> None:
        runtime.spawn(
            "payment-recheck",
            lambda: recheck_forever(runtime.database, state.payments, settings.recheck_interval),
        )

    async def close_state(runtime: ServiceRuntime) -> None:
        await state.close()

    routers = [transactions_router, catalogue_router]
    if settings.simulated_provider_enabled:
        routers += [simulated_api, simulated_checkout]
    app = create_service_app(
        runtime,
        title="ozg-router payment",
        description=__doc__ or "",
        routers=routers,
        on_startup=[start_rechecks],
        on_shutdown=[close_state],
        readiness=state.readiness(),
    )
    app.state.payment = state
    install_error_handler(app)
    return app
