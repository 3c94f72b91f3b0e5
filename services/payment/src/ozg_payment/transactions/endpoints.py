"""XBezahldienste HTTP API, plus the two doors the provider and the citizen's browser come back by."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.responses import RedirectResponse

from ozg_common.auth import AdminDep, SenderOrAdminDep
from ozg_common.db import SessionDep
from ozg_common.pagination import LIMIT_DEFAULT, Limit, Offset
from ozg_common.problems import Forbidden, Unauthorized, problem_responses
from ozg_common.service import EventsUnavailable, KafkaWritable
from ozg_payment.errors import (
    BookingDataMissing,
    CalculationError,
    InvalidOriginatorOrEndpoint,
    NotYourTransaction,
    PaymentExists,
    ProviderRejected,
    ProviderUnavailable,
    ServiceNotFound,
    TransactionNotFound,
    ValidationFailed,
)
from ozg_payment.state import StateDep
from ozg_payment.transactions.schemas import (
    OperatorTransactionPage,
    PaymentTransaction,
    PaymentTransactionRequest,
    ReconciliationReport,
)
from ozg_payment.transactions.service import reconciliation_csv, reconciliation_report
from ozg_payment.xbezahldienste import TransactionStatus

router = APIRouter(tags=["paymenttransaction"])

OriginatorId = Annotated[
    str, Path(alias="originatorId", description="The online service (client) paying in.")
]
EndPointId = Annotated[str, Path(alias="endPointId", description="The receiving authority, e.g. its AGS.")]
TransactionId = Annotated[str, Path(alias="transactionId")]


@router.post(
    "/paymenttransaction/{originatorId}/{endPointId}",
    status_code=201,
    response_model=PaymentTransaction,
    response_model_exclude_none=True,
    summary="Create a payment transaction",
    dependencies=[KafkaWritable],
    responses={
        **problem_responses(
            EventsUnavailable,
            ValidationFailed,
            BookingDataMissing,
            CalculationError,
            InvalidOriginatorOrEndpoint,
            ServiceNotFound,
            PaymentExists,
            Unauthorized,
            Forbidden,
            ProviderRejected,
            ProviderUnavailable,
        ),
    },
)
async def create_transaction(
    originator_id: OriginatorId,
    endpoint_id: EndPointId,
    body: PaymentTransactionRequest,
    principal: SenderOrAdminDep,
    session: SessionDep,
    state: StateDep,
    response: Response,
) -> PaymentTransaction:
    """Open a payment; the answer's `transactionRedirectUrl` is the checkout page for the citizen.

    The amount must be the fee of the service as zufi's catalogue states it. The service is named by
    the optional `leikaKey` extension; without it, the item ids (the catalogue's fee item ids, see
    `GET /v1/fees/{leikaKey}`) identify it. Every item must be a fee item of that service at its
    catalogue unit price, and `amount` = Σ price × quantity, else `CALCULATION_ERROR`.
    The optional `caseId` extension names the case the payment is for; events are keyed by it.

    A `requestId` used before is `PAYMENT_EXISTS` (400), whatever the body: nothing is charged
    twice. A portal that timed out waiting for this answer retries with the same `requestId`; the
    PAYMENT_EXISTS answer then carries the transaction's `transactionId` and `Location` (to the
    client that made the first request only), and the portal reads the status there (GET) and
    sends the citizen to its `transactionRedirectUrl` while it is INITIAL.
    """
    transaction = await state.payments.create(session, principal, originator_id, endpoint_id, body)
    response.headers["Location"] = state.payments.transaction_url(transaction)
    return state.payments.answer(transaction)


@router.get(
    "/paymenttransaction/{originatorId}/{endPointId}/{transactionId}",
    response_model=PaymentTransaction,
    response_model_exclude_none=True,
    summary="Read a payment transaction and its status",
    responses=problem_responses(TransactionNotFound, NotYourTransaction, Unauthorized, Forbidden),
)
async def read_transaction(
    originator_id: OriginatorId,
    endpoint_id: EndPointId,
    transaction_id: TransactionId,
    principal: SenderOrAdminDep,
    session: SessionDep,
    state: StateDep,
) -> PaymentTransaction:
    """The transaction as last confirmed with the provider (re-checked periodically)."""
    transaction = await state.payments.get(session, principal, originator_id, endpoint_id, transaction_id)
    return state.payments.answer(transaction)


@router.get(
    "/status/{originatorId}/{endPointId}",
    summary="Health of the payment service provider",
    responses=problem_responses(InvalidOriginatorOrEndpoint, ProviderUnavailable, Unauthorized, Forbidden),
)
async def provider_status(
    originator_id: OriginatorId, endpoint_id: EndPointId, principal: SenderOrAdminDep, state: StateDep
) -> dict[str, str]:
    if not await state.payments.provider_healthy(originator_id, endpoint_id):
        raise ProviderUnavailable("The payment service provider does not answer.")
    return {"status": "UP"}


@router.get(
    "/paymenttransaction-return/{transactionId}",
    status_code=303,
    response_class=RedirectResponse,
    summary="Where the provider sends the citizen back",
    responses=problem_responses(TransactionNotFound),
)
async def citizen_returns(
    transaction_id: TransactionId, session: SessionDep, state: StateDep
) -> RedirectResponse:
    """Confirms the outcome with the provider, then sends the citizen on to the sender's redirectUrl.

    Whatever the provider appended to this URL is ignored: a redirect is no proof of payment.
    """
    transaction = await state.payments.find(session, transaction_id)
    await state.payments.confirm(session, transaction)
    return RedirectResponse(transaction.request["redirectUrl"], status_code=303)


@router.post(
    "/provider-notifications/{transactionId}",
    status_code=204,
    summary="The provider's hint that a transaction changed",
    # Refused while Kafka cannot take the change's event: the provider notifies again later.
    dependencies=[KafkaWritable],
    responses=problem_responses(EventsUnavailable, TransactionNotFound),
)
async def provider_notifies(transaction_id: TransactionId, session: SessionDep, state: StateDep) -> Response:
    """Any body is ignored; the state is fetched from the provider (server-side confirmation)."""
    transaction = await state.payments.find(session, transaction_id)
    await state.payments.confirm(session, transaction)
    return Response(status_code=204)


@router.get(
    "/v1/admin/reconciliation",
    response_model=ReconciliationReport,
    summary="Reconciliation report per day and Kassenzeichen, as JSON or CSV (operators)",
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **problem_responses(ValidationFailed, Unauthorized, Forbidden),
    },
    tags=["admin"],
)
async def reconciliation(
    admin: AdminDep,
    session: SessionDep,
    accept: Annotated[str, Header()] = "application/json",
    first: Annotated[date | None, Query(alias="from", description="First day (UTC); default: `to`.")] = None,
    last: Annotated[date | None, Query(alias="to", description="Last day (UTC); default: today.")] = None,
    output: Annotated[Literal["json", "csv"] | None, Query(alias="format")] = None,
) -> Response:
    """Per day and Kassenzeichen: what was paid, what is still INITIAL past its timeout, and what a
    late provider result (PAYED after FAILED) turned round. CSV with `format=csv` or
    `Accept: text/csv`: one line per entry."""
    report = await reconciliation_report(session, first, last)
    if output == "csv" or (output is None and "text/csv" in accept):
        return Response(reconciliation_csv(report), media_type="text/csv; charset=utf-8")
    return Response(report.model_dump_json(by_alias=True), media_type="application/json")


@router.get(
    "/v1/admin/transactions",
    response_model=OperatorTransactionPage,
    summary="Payment transactions, newest first (operators)",
    responses=problem_responses(Unauthorized, Forbidden),
    tags=["admin"],
)
async def list_transactions(
    admin: AdminDep,
    session: SessionDep,
    state: StateDep,
    case_id: Annotated[str | None, Query(alias="caseId", min_length=1, max_length=100)] = None,
    status: Annotated[TransactionStatus | None, Query()] = None,
    offset: Offset = 0,
    limit: Limit = LIMIT_DEFAULT,
) -> OperatorTransactionPage:
    """Each transaction's paymentInformation with its case, originator, endpoint and request id.

    A provider result that arrived after the transaction was final shows as `lateProviderStatus`
    (see also `/v1/admin/reconciliation`).
    """
    return await state.payments.listing(session, case_id=case_id, status=status, offset=offset, limit=limit)
