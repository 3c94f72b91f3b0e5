"""The simulated provider's ledger and its asynchronous notifications."""

import asyncio
import logging
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_payment.errors import InvalidOriginatorOrEndpoint, PaymentExists, TransactionNotFound
from ozg_payment.kassenzeichen import new_kassenzeichen
from ozg_payment.models import SimulatedProviderTransaction
from ozg_payment.providers.simulated import repository
from ozg_payment.settings import SIMULATED_PROVIDER_PREFIX, PaymentSettings
from ozg_payment.xbezahldienste import (
    PaymentInformation,
    PaymentTransactionAnswer,
    ProviderPaymentRequest,
    check_ids,
)

logger = logging.getLogger(__name__)

DECISIONS = {
    "bezahlen": ("PAYED", "Zahlung erfolgreich (simuliert)"),
    "abbrechen": ("CANCELED", "Vom Zahlenden abgebrochen"),
    "fehlschlag": ("FAILED", "Zahlung abgelehnt (simuliert)"),
}
NOTIFICATION_DELAYS = (0.0, 0.5, 2.0, 5.0)


class AlreadyDecided(Exception):
    """The citizen already paid, cancelled or failed this transaction."""


class SimulatedProvider:
    """What a provider keeps and does: transactions, the citizen's decision, notifications."""

    def __init__(self, settings: PaymentSettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self.base_url = settings.public_base_url + SIMULATED_PROVIDER_PREFIX

    async def open(
        self, session: AsyncSession, originator_id: str, endpoint_id: str, request: ProviderPaymentRequest
    ) -> SimulatedProviderTransaction:
        """Open a transaction; a requestId used before is PAYMENT_EXISTS, as the standard says."""
        check_ids(originator_id, endpoint_id)
        body = request.model_dump(
            mode="json", by_alias=True, exclude_none=True, exclude={"request_timestamp"}
        )
        moment = datetime.now(UTC)
        transaction = SimulatedProviderTransaction(
            id=uuid.uuid4(),
            originator_id=originator_id,
            endpoint_id=endpoint_id,
            request_id=request.request_id,
            request=body,
            reference=request.transaction_reference or new_kassenzeichen(),
            amount=request.amount,
            purpose=request.purpose,
            redirect_url=request.redirect_url,
            notification_url=request.notification_url,
            status="INITIAL",
            created_at=moment,
            status_changed_at=moment,
        )
        if not await repository.insert(session, transaction):
            raise PaymentExists("This requestId was used before.")
        return transaction

    async def get(self, session: AsyncSession, transaction_id: str) -> SimulatedProviderTransaction:
        try:
            key = uuid.UUID(transaction_id)
        except ValueError:
            raise TransactionNotFound(f"No transaction {transaction_id}.") from None
        transaction = await repository.get(session, key)
        if transaction is None:
            raise TransactionNotFound(f"No transaction {transaction_id}.")
        return transaction

    async def get_for(
        self, session: AsyncSession, originator_id: str, endpoint_id: str, transaction_id: str
    ) -> SimulatedProviderTransaction:
        transaction = await self.get(session, transaction_id)
        if (transaction.originator_id, transaction.endpoint_id) != (originator_id, endpoint_id):
            raise InvalidOriginatorOrEndpoint("This transaction belongs to another originator or endpoint.")
        return transaction

    async def decide(
        self, session: AsyncSession, transaction: SimulatedProviderTransaction, decision: str, method: str
    ) -> None:
        """The citizen pressed a button on the checkout page."""
        if transaction.status != "INITIAL":
            raise AlreadyDecided(transaction.status)
        transaction.status, transaction.status_detail = DECISIONS[decision]
        transaction.payment_method = method if decision == "bezahlen" else None
        transaction.status_changed_at = datetime.now(UTC)
        await session.flush()

    def answer(self, transaction: SimulatedProviderTransaction) -> PaymentTransactionAnswer:
        info = PaymentInformation.model_validate(
            {
                "transaction_id": str(transaction.id),
                "transaction_reference": transaction.reference,
                "transaction_url": (
                    f"{self.base_url}/paymenttransaction/{transaction.originator_id}/"
                    f"{transaction.endpoint_id}/{transaction.id}"
                ),
                "transaction_redirect_url": self.checkout_url(transaction)
                if transaction.status == "INITIAL"
                else None,
                "transaction_timestamp": transaction.status_changed_at,
                "payment_method": transaction.payment_method,
                "status": transaction.status,
                "status_detail": transaction.status_detail,
            }
        )
        return PaymentTransactionAnswer.model_validate(
            {**transaction.request, "requestTimestamp": transaction.created_at, "paymentInformation": info}
        )

    def checkout_url(self, transaction: SimulatedProviderTransaction) -> str:
        return f"{self.base_url}/checkout/{transaction.id}"

    async def notify(self, transaction_id: uuid.UUID, url: str | None) -> None:
        """Tell the payment service something changed, retrying a few times (runs after the answer)."""
        if url is None or not self.settings.simulated_provider_notifications:
            return
        for delay in NOTIFICATION_DELAYS:
            await asyncio.sleep(delay)
            try:
                answer = await self.http.post(url, json={"transactionId": str(transaction_id)})
                if answer.is_success:
                    return
            except httpx.HTTPError as exc:
                logger.info(
                    "notification failed", extra={"transaction_id": str(transaction_id), "error": repr(exc)}
                )
        logger.warning(
            "notification given up; the payment service will re-check",
            extra={"transaction_id": str(transaction_id)},
        )
