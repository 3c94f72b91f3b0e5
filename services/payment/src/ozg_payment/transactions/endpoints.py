"""XBezahldienste HTTP API, plus the two doors the provider and the citizen's browser come back by."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import RedirectResponse

from ozg_common.auth import AdminDep, SenderOrAdminDep
from ozg_common.db import SessionDep
from ozg_common.problems import Forbidden, Unauthorized, problem_responses
from ozg_payment.dependencies import PaymentsDep
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
from ozg_payment.models import PaymentTransaction as TransactionRow
from ozg_payment.transactions import repository
from ozg_payment.transactions.schemas import (
    OperatorTransactionPage,
    PaymentTransaction,
    PaymentTransactionRequest,
    ReconciliationCase,
)
from ozg_payment.transactions.service import Payments
from ozg_payment.xbezahldienste import TransactionStatus

router = APIRouter(tags=["paymenttransaction"])

OriginatorId = Annotated[
    str, Path(alias="originatorId", description="The online service (client) paying in.")
]
EndPointId = Annotated[str, Path(alias="endPointId", description="The receiving authority, e.g. its AGS.")]
TransactionId = Annotated[str, Path(alias="transactionId")]


def _answer(payments: Payments, transaction: TransactionRow) -> PaymentTransaction:
    return PaymentTransaction.model_validate(
        {**transaction.request, "paymentInformation": payments.payment_information(transaction)}
    )


@router.post(
    "/paymenttransaction/{originatorId}/{endPointId}",
    status_code=201,
    response_model=PaymentTransaction,
    response_model_exclude_none=True,
    summary="Create a payment transaction",
    responses={
        200: {"description": "PAYMENT_EXISTS: the same request was made before; its transaction"},
        **problem_responses(
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
    payments: PaymentsDep,
    response: Response,
) -> PaymentTransaction:
    """Open a payment; the answer's `transactionRedirectUrl` is the checkout page for the citizen.

    The amount must be the fee of the service as zufi's catalogue states it. The service is named by
    the optional `leikaKey` extension; without it, the item ids (the catalogue's fee item ids, see
    `GET /v1/fees/{leikaKey}`) identify it. Every item must be a fee item of that service at its
    catalogue unit price, and `amount` = Σ price × quantity, else `CALCULATION_ERROR`.
    The optional `caseId` extension names the case the payment is for; events are keyed by it.

    The same `requestId` again with the same body (the timestamp aside) answers the existing
    transaction with 200 (`PAYMENT_EXISTS`, no second charge); with another body: 409.
    """
    transaction, created = await payments.create(session, principal, originator_id, endpoint_id, body)
    response.headers["Location"] = payments.transaction_url(transaction)
    if not created:
        response.status_code = 200
    return _answer(payments, transaction)


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
    payments: PaymentsDep,
) -> PaymentTransaction:
    """The transaction as last confirmed with the provider (re-checked periodically)."""
    transaction = await payments.get(session, principal, originator_id, endpoint_id, transaction_id)
    return _answer(payments, transaction)


@router.get(
    "/status/{originatorId}/{endPointId}",
    summary="Health of the payment service provider",
    responses=problem_responses(InvalidOriginatorOrEndpoint, ProviderUnavailable, Unauthorized, Forbidden),
)
async def provider_status(
    originator_id: OriginatorId, endpoint_id: EndPointId, principal: SenderOrAdminDep, payments: PaymentsDep
) -> dict[str, str]:
    if not await payments.provider_healthy(originator_id, endpoint_id):
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
    transaction_id: TransactionId, session: SessionDep, payments: PaymentsDep
) -> RedirectResponse:
    """Confirms the outcome with the provider, then sends the citizen on to the sender's redirectUrl.

    Whatever the provider appended to this URL is ignored: a redirect is no proof of payment.
    """
    transaction = await payments.find(session, transaction_id)
    await payments.confirm(session, transaction)
    return RedirectResponse(transaction.request["redirectUrl"], status_code=303)


@router.post(
    "/provider-notifications/{transactionId}",
    status_code=204,
    summary="The provider's hint that a transaction changed",
    responses=problem_responses(TransactionNotFound),
)
async def provider_notifies(
    transaction_id: TransactionId, session: SessionDep, payments: PaymentsDep
) -> Response:
    """Any body is ignored; the state is fetched from the provider (server-side confirmation)."""
    transaction = await payments.find(session, transaction_id)
    await payments.confirm(session, transaction)
    return Response(status_code=204)


@router.get(
    "/v1/admin/reconciliation",
    response_model=list[ReconciliationCase],
    summary="Transactions an operator must reconcile (e.g. PAYED at the provider after FAILED here)",
    responses=problem_responses(Unauthorized, Forbidden),
    tags=["admin"],
)
async def reconciliation(admin: AdminDep, session: SessionDep) -> list[ReconciliationCase]:
    return [
        ReconciliationCase(
            transaction_id=str(row.id),
            originator_id=row.originator_id,
            end_point_id=row.endpoint_id,
            transaction_reference=row.kassenzeichen,
            status=row.status,
            provider_status=row.late_provider_status or "",
            reported_at=row.late_reported_at or row.status_changed_at,
            case_id=row.case_id,
        )
        for row in await repository.reconciliation_cases(session)
    ]


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
    payments: PaymentsDep,
    case_id: Annotated[str | None, Query(alias="caseId", min_length=1, max_length=100)] = None,
    status: Annotated[TransactionStatus | None, Query()] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> OperatorTransactionPage:
    """Each transaction's paymentInformation with its case, originator, endpoint and request id.

    A provider result that arrived after the transaction was final shows as `lateProviderStatus`
    (see also `/v1/admin/reconciliation`).
    """
    return await payments.listing(session, case_id=case_id, status=status, offset=offset, limit=limit)
