"""The simulated provider over HTTP: its XBezahldienste API and the citizen's checkout page."""

import hmac
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from ozg_common.auth import bearer_token
from ozg_common.db import SessionDep
from ozg_common.problems import Unauthorized, problem_responses
from ozg_payment.errors import InvalidOriginatorOrEndpoint, PaymentExists, TransactionNotFound
from ozg_payment.providers.simulated.service import AlreadyDecided, SimulatedProvider
from ozg_payment.settings import SIMULATED_PROVIDER_PREFIX
from ozg_payment.state import StateDep
from ozg_payment.xbezahldienste import PaymentMethod, PaymentTransactionAnswer, ProviderPaymentRequest

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

PAYMENT_METHODS: dict[str, str] = {
    "CREDITCARD": "Kreditkarte",
    "PAYPAL": "PayPal",
    "GIROPAY": "giropay",
    "PAYDIRECT": "paydirekt",
    "OTHER": "Sonstige",
}


async def _provider(state: StateDep) -> SimulatedProvider:
    return state.simulated_provider


ProviderDep = Annotated[SimulatedProvider, Depends(_provider)]


async def _authenticated(request: Request, provider: ProviderDep) -> None:
    """When an API key is configured, the provider's API demands it (as a real provider would)."""
    expected = provider.settings.simulated_provider_api_key.get_secret_value()
    if expected and not hmac.compare_digest(bearer_token(request).encode(), expected.encode()):
        raise Unauthorized("Wrong API key for the simulated provider.")


api = APIRouter(
    prefix=SIMULATED_PROVIDER_PREFIX,
    tags=["simulated provider"],
    dependencies=[Depends(_authenticated)],
)
checkout = APIRouter(prefix=SIMULATED_PROVIDER_PREFIX, tags=["simulated provider"], include_in_schema=False)

OriginatorId = Annotated[str, PathParam(alias="originatorId")]
EndPointId = Annotated[str, PathParam(alias="endPointId")]
TransactionId = Annotated[str, PathParam(alias="transactionId")]


@api.post(
    "/paymenttransaction/{originatorId}/{endPointId}",
    status_code=201,
    response_model=PaymentTransactionAnswer,
    response_model_exclude_none=True,
    responses=problem_responses(InvalidOriginatorOrEndpoint, PaymentExists, Unauthorized),
)
async def open_transaction(
    originator_id: OriginatorId,
    endpoint_id: EndPointId,
    body: ProviderPaymentRequest,
    session: SessionDep,
    provider: ProviderDep,
    response: Response,
) -> PaymentTransactionAnswer:
    answer = provider.answer(await provider.open(session, originator_id, endpoint_id, body))
    response.headers["Location"] = answer.payment_information.transaction_url or ""
    return answer


@api.get(
    "/paymenttransaction/{originatorId}/{endPointId}/{transactionId}",
    operation_id="simulatedProviderReadTransaction",
    response_model=PaymentTransactionAnswer,
    response_model_exclude_none=True,
    responses=problem_responses(TransactionNotFound, InvalidOriginatorOrEndpoint, Unauthorized),
)
async def read_transaction(
    originator_id: OriginatorId,
    endpoint_id: EndPointId,
    transaction_id: TransactionId,
    session: SessionDep,
    provider: ProviderDep,
) -> PaymentTransactionAnswer:
    return provider.answer(await provider.get_for(session, originator_id, endpoint_id, transaction_id))


@api.get("/status/{originatorId}/{endPointId}", responses=problem_responses(Unauthorized))
async def status(originator_id: OriginatorId, endpoint_id: EndPointId) -> dict[str, str]:
    return {"status": "UP"}


def _euro(amount: Decimal) -> str:
    """German notation: 1.234,50 €."""
    return f"{amount:,.2f} €".replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


@checkout.get("/checkout/{transactionId}", response_class=HTMLResponse)
async def checkout_page(
    request: Request, transaction_id: TransactionId, session: SessionDep, provider: ProviderDep
) -> HTMLResponse:
    """The page the citizen pays on (server-rendered, works without JavaScript)."""
    transaction = await provider.get(session, transaction_id)
    return templates.TemplateResponse(
        request,
        "checkout.html",
        {
            "transaction": transaction,
            "amount": _euro(transaction.amount),
            "items": [
                {**item, "total": _euro(Decimal(str(item["price"])) * int(item.get("quantity", 1)))}
                for item in transaction.request.get("items", [])
            ],
            "methods": PAYMENT_METHODS,
            "action": request.url_for("checkout_decision", transactionId=str(transaction.id)),
        },
        status_code=200 if transaction.status == "INITIAL" else 409,
    )


@checkout.post("/checkout/{transactionId}", response_class=HTMLResponse, name="checkout_decision")
async def checkout_decision(
    request: Request,
    transaction_id: TransactionId,
    aktion: Annotated[Literal["bezahlen", "abbrechen", "fehlschlag"], Form()],
    session: SessionDep,
    provider: ProviderDep,
    background: BackgroundTasks,
    zahlungsart: Annotated[PaymentMethod, Form()] = "CREDITCARD",
) -> Response:
    """The citizen's decision; then back to the shop, which must not trust the query string."""
    transaction = await provider.get(session, transaction_id)
    try:
        await provider.decide(session, transaction, aktion, zahlungsart)
    except AlreadyDecided:
        return await checkout_page(request, transaction_id, session, provider)
    # Runs after the answer, i.e. after the commit: the payment service then reads the new state.
    background.add_task(provider.notify, transaction.id, transaction.notification_url)
    separator = "&" if "?" in transaction.redirect_url else "?"
    return RedirectResponse(
        f"{transaction.redirect_url}{separator}status={transaction.status}", status_code=303
    )
