"""Payment transactions: creation, server-side confirmation with the provider, final outcomes.

The provider is the only source of truth for an outcome: a redirect or a notification merely
prompts `confirm`, which asks the provider itself.
"""

import csv
import io
import logging
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.auth import Principal
from ozg_common.contracts.payment import PAYMENT_EVENTS, PaymentOpened
from ozg_common.outbox import Outbox
from ozg_payment.catalogue.service import check_fee, identify_service
from ozg_payment.errors import (
    BookingDataMissing,
    CalculationError,
    InvalidOriginatorOrEndpoint,
    NotYourTransaction,
    PaymentError,
    PaymentExists,
    ProviderRejected,
    ProviderUnavailable,
    TransactionNotFound,
    ValidationFailed,
)
from ozg_payment.kassenzeichen import new_kassenzeichen
from ozg_payment.metrics import PaymentMetrics
from ozg_payment.models import PaymentTransaction
from ozg_payment.providers.base import PaymentProvider, ProviderError, ProviderRefused, ProviderTransaction
from ozg_payment.settings import PaymentSettings
from ozg_payment.transactions import repository
from ozg_payment.transactions.schemas import (
    OperatorTransaction,
    OperatorTransactionPage,
    PaymentTransactionRequest,
    ReconciliationDay,
    ReconciliationEntry,
    ReconciliationKind,
    ReconciliationReport,
    ReconciliationSum,
)
from ozg_payment.transactions.schemas import PaymentTransaction as PaymentTransactionAnswer
from ozg_payment.xbezahldienste import (
    FINAL_STATUSES,
    PaymentInformation,
    ProviderPaymentRequest,
    check_ids,
    fingerprint,
)

logger = logging.getLogger(__name__)

TIMEOUT_DETAIL = "Zeitüberschreitung: nicht innerhalb der Frist bezahlt"
SENDERS_FAULTS: dict[str, type[PaymentError]] = {
    "VALIDATION_ERROR": ValidationFailed,
    "CALCULATION_ERROR": CalculationError,
    "BOOKING_DATA_MISSING": BookingDataMissing,
    "NO_VALID_ORIGINATOR_OR_ENDPOINT": InvalidOriginatorOrEndpoint,
}
"""Provider refusals the sender can mend, answered with the provider's code; any other refusal
(our login, a PAYMENT_EXISTS for our own request id) is the provider's or ours: UNSPECIFIED."""


RECONCILIATION_MAX_DAYS = 92
"""The longest report: one quarter."""
CSV_COLUMNS = (
    "day",
    "kassenzeichen",
    "kind",
    "amount",
    "transactionId",
    "caseId",
    "originatorId",
    "endPointId",
    "status",
    "providerStatus",
    "paymentMethod",
    "at",
)


def _event_references(transaction: PaymentTransaction) -> dict[str, Any]:
    """What every event about `transaction` names: its case, itself and the sender's request."""
    return {
        "case_id": transaction.case_id,
        "transaction_id": str(transaction.id),
        "origin_id": transaction.originator_id,
        "endpoint_id": transaction.endpoint_id,
        "request_id": transaction.request_id,
    }


def now() -> datetime:
    return datetime.now(UTC)


class Payments:
    """The payment transactions of this service and their one provider."""

    def __init__(
        self, settings: PaymentSettings, provider: PaymentProvider, outbox: Outbox, metrics: PaymentMetrics
    ) -> None:
        self.settings = settings
        self.provider = provider
        self.outbox = outbox
        self.metrics = metrics
        self.recheck_interval = timedelta(seconds=settings.recheck_interval)

    # -- what senders do --------------------------------------------------------------------

    async def create(
        self,
        session: AsyncSession,
        principal: Principal,
        originator_id: str,
        endpoint_id: str,
        request: PaymentTransactionRequest,
    ) -> PaymentTransaction:
        """Open a transaction at the provider; a requestId used before is PAYMENT_EXISTS."""
        check_ids(originator_id, endpoint_id)
        digest = fingerprint(request)
        client = principal.client_id or principal.subject
        existing = await repository.by_request_id(session, originator_id, endpoint_id, request.request_id)
        if existing is not None:
            raise self._payment_exists(existing, digest, client)
        leika_key = await identify_service(session, request.leika_key, request.items)
        items = await check_fee(session, leika_key, request.amount, request.items)
        accepted = request.model_copy(update={"items": items, "leika_key": leika_key})
        moment = now()
        transaction = PaymentTransaction(
            id=uuid.uuid4(),
            originator_id=originator_id,
            endpoint_id=endpoint_id,
            request_id=request.request_id,
            request_fingerprint=digest,
            request=accepted.model_dump(mode="json", by_alias=True, exclude_none=True),
            client_id=client,
            case_id=request.case_id,
            leika_key=leika_key,
            amount=request.amount,
            status="INITIAL",
            created_at=moment,
            status_changed_at=moment,
            expires_at=moment + timedelta(seconds=self.settings.transaction_timeout),
            next_check_at=moment + self.recheck_interval,
            failed_checks=0,
        )
        raced = await self._insert(session, transaction)
        if raced is not None:
            raise self._payment_exists(raced, digest, client)
        await self._open_at_provider(session, transaction, accepted)
        # In the transaction that stores it: submission holds the case's FIT-Connect submission
        # until this payment's outcome, however soon the sender submits.
        await self.outbox.publish(session, PaymentOpened(**_event_references(transaction)))
        return transaction

    async def _insert(
        self, session: AsyncSession, transaction: PaymentTransaction
    ) -> PaymentTransaction | None:
        """Insert; answers the transaction a concurrent identical requestId inserted first, if any."""
        for _ in range(5):
            transaction.kassenzeichen = new_kassenzeichen()
            if await repository.insert(session, transaction):
                return None
            raced = await repository.by_request_id(
                session, transaction.originator_id, transaction.endpoint_id, transaction.request_id
            )
            if raced is not None:
                return raced
        raise RuntimeError("could not draw a unique Kassenzeichen")

    def _payment_exists(self, existing: PaymentTransaction, digest: str, client: str) -> PaymentExists:
        """PAYMENT_EXISTS; the client that made the first request learns where its transaction is.

        A portal whose first POST timed out retries with the same requestId; from this answer's
        `transactionId` and `Location` it reads the status instead of paying twice. The text says
        whether the first request had the same body (a retry) or another one (a reused id).
        """
        if existing.client_id != client:
            return PaymentExists("This requestId was used before.")
        same = "the same request" if existing.request_fingerprint == digest else "another request body"
        return PaymentExists(
            f"This requestId was used before with {same}; its transaction is at the Location given.",
            headers={"Location": self.transaction_url(existing)},
            transactionId=str(existing.id),
            transactionUrl=self.transaction_url(existing),
        )

    async def _open_at_provider(
        self, session: AsyncSession, transaction: PaymentTransaction, request: PaymentTransactionRequest
    ) -> None:
        upstream = ProviderPaymentRequest.model_validate(
            {
                **request.model_dump(exclude={"case_id", "leika_key"}),
                # Our transaction id as the provider's requestId makes a repeated call harmless.
                "request_id": str(transaction.id),
                "redirect_url": self.return_url(transaction),
                "transaction_reference": transaction.kassenzeichen,
                "notification_url": self.notification_url(transaction),
            }
        )
        try:
            opened = await self.provider.create(transaction.originator_id, transaction.endpoint_id, upstream)
        except ProviderRefused as exc:
            self.metrics.provider_errors.labels("create").inc()
            logger.warning("provider refused a transaction", extra={"error": str(exc)})
            text = f"The payment service provider refused this transaction: {exc.functional_text}"
            raise SENDERS_FAULTS.get(exc.code, ProviderRejected)(text) from exc
        except ProviderError as exc:
            self.metrics.provider_errors.labels("create").inc()
            logger.warning("provider unavailable", extra={"error": str(exc)})
            raise ProviderUnavailable(
                "The payment service provider cannot be reached; try again later.",
                headers={"Retry-After": "30"},
            ) from exc
        transaction.provider_transaction_id = opened.provider_transaction_id
        transaction.checkout_url = opened.checkout_url
        await session.flush()

    async def get(
        self,
        session: AsyncSession,
        principal: Principal,
        originator_id: str,
        endpoint_id: str,
        transaction_id: str,
    ) -> PaymentTransaction:
        transaction = await self.find(session, transaction_id)
        if transaction.originator_id != originator_id or transaction.endpoint_id != endpoint_id:
            raise TransactionNotFound(f"No transaction {transaction_id} for this originator and endpoint.")
        if not principal.has("admin") and transaction.client_id != (principal.client_id or principal.subject):
            raise NotYourTransaction()
        return transaction

    async def find(self, session: AsyncSession, transaction_id: str) -> PaymentTransaction:
        try:
            key = uuid.UUID(transaction_id)
        except ValueError:
            raise TransactionNotFound(f"No transaction {transaction_id}.") from None
        transaction = await repository.get(session, key)
        if transaction is None:
            raise TransactionNotFound(f"No transaction {transaction_id}.")
        return transaction

    async def provider_healthy(self, originator_id: str, endpoint_id: str) -> bool:
        check_ids(originator_id, endpoint_id)
        return await self.provider.healthy(originator_id, endpoint_id)

    # -- what the provider says ------------------------------------------------------------

    async def confirm(self, session: AsyncSession, transaction: PaymentTransaction) -> None:
        """Ask the provider for the transaction's state and apply it (server-side confirmation)."""
        if transaction.provider_transaction_id is None:
            return
        try:
            seen = await self.provider.status(
                transaction.originator_id, transaction.endpoint_id, transaction.provider_transaction_id
            )
        except ProviderError as exc:
            self.metrics.provider_errors.labels("status").inc()
            logger.warning(
                "provider unavailable for a status check",
                extra={"transaction_id": str(transaction.id), "error": str(exc)},
            )
            await self._provider_unreachable(session, transaction)
            return
        await self.apply(session, transaction, seen)

    async def apply(
        self, session: AsyncSession, transaction: PaymentTransaction, seen: ProviderTransaction
    ) -> None:
        """Bring our state in line with the provider's; final states never change."""
        moment = now()
        transaction.failed_checks = 0
        if transaction.status == "INITIAL":
            if seen.status in FINAL_STATUSES:
                await self._finish(session, transaction, seen.status, seen.status_detail, seen.payment_method)
            elif moment >= transaction.expires_at:
                await self._finish(session, transaction, "FAILED", TIMEOUT_DETAIL, None, keep_checking=True)
            else:
                transaction.next_check_at = moment + self.recheck_interval
        elif seen.status == transaction.status:
            transaction.next_check_at = None
        elif seen.status in FINAL_STATUSES:
            await self._late_result(session, transaction, seen)
        else:
            transaction.next_check_at = self._reconciliation_check(transaction, moment)
        await session.flush()

    async def _provider_unreachable(self, session: AsyncSession, transaction: PaymentTransaction) -> None:
        moment = now()
        transaction.failed_checks += 1
        if transaction.status == "INITIAL" and moment >= transaction.expires_at:
            detail = TIMEOUT_DETAIL + " (Zahlungsdienst nicht erreichbar)"
            await self._finish(session, transaction, "FAILED", detail, None, keep_checking=True)
            return
        backoff = self.recheck_interval * min(2 ** (transaction.failed_checks - 1), 10)
        if transaction.status == "INITIAL":
            transaction.next_check_at = moment + backoff
        else:
            transaction.next_check_at = self._reconciliation_check(transaction, moment, backoff)
        await session.flush()

    def _reconciliation_check(
        self, transaction: PaymentTransaction, moment: datetime, delay: timedelta | None = None
    ) -> datetime | None:
        """A timed-out transaction is asked about for a while longer, so late money is noticed."""
        window_end = transaction.expires_at + timedelta(seconds=self.settings.reconciliation_window)
        return moment + (delay or self.recheck_interval) if moment < window_end else None

    async def _finish(
        self,
        session: AsyncSession,
        transaction: PaymentTransaction,
        status: str,
        detail: str | None,
        payment_method: str | None,
        *,
        keep_checking: bool = False,
    ) -> None:
        moment = now()
        values = {
            "status": status,
            "status_detail": detail,
            "payment_method": payment_method,
            "status_changed_at": moment,
            "next_check_at": moment + self.recheck_interval if keep_checking else None,
            "failed_checks": 0,
        }
        if not await repository.leave_initial(session, transaction.id, values):
            await session.refresh(transaction)
            return
        await session.refresh(transaction)
        self.metrics.transitions.labels(status).inc()
        logger.info(
            "payment transaction final", extra={"transaction_id": str(transaction.id), "status": status}
        )
        event = PAYMENT_EVENTS[status](
            **_event_references(transaction),
            payment_information=self.payment_information(transaction).model_dump(
                mode="json", by_alias=True, exclude_none=True
            ),
        )
        await self.outbox.publish(session, event)

    async def _late_result(
        self, session: AsyncSession, transaction: PaymentTransaction, seen: ProviderTransaction
    ) -> None:
        """The provider contradicts a final state (money after FAILED): record it, raise it, keep it."""
        transaction.next_check_at = None
        if transaction.late_provider_status is not None:
            return
        moment = now()
        values = {
            "late_provider_status": seen.status,
            "late_reported_at": moment,
            "next_check_at": None,
            "status_detail": (
                f"{transaction.status_detail or transaction.status}; ABGLEICH ERFORDERLICH: der "
                f"Zahlungsdienst meldet am {moment:%Y-%m-%d %H:%M:%S} UTC den Status {seen.status}"
            ),
        }
        recorded = await repository.record_late_result(session, transaction.id, values)
        await session.refresh(transaction)
        if not recorded:
            return
        self.metrics.late_provider_results.labels(seen.status).inc()
        logger.error(
            "provider reports a result after the transaction was final; reconciliation required",
            extra={
                "transaction_id": str(transaction.id),
                "status": transaction.status,
                "provider_status": seen.status,
                "kassenzeichen": transaction.kassenzeichen,
            },
        )

    # -- what operators see ----------------------------------------------------------------

    async def listing(
        self,
        session: AsyncSession,
        *,
        case_id: str | None,
        status: str | None,
        offset: int,
        limit: int,
    ) -> OperatorTransactionPage:
        """Transactions newest first, of one case and/or in one state."""
        rows, total = await repository.page(
            session, case_id=case_id, status=status, offset=offset, limit=limit
        )
        return OperatorTransactionPage(
            count=len(rows),
            offset=offset,
            total_count=total,
            transactions=[self.operator_view(row) for row in rows],
        )

    def operator_view(self, transaction: PaymentTransaction) -> OperatorTransaction:
        return OperatorTransaction.model_validate(
            {
                **self.payment_information(transaction).model_dump(),
                "case_id": transaction.case_id,
                "originator_id": transaction.originator_id,
                "end_point_id": transaction.endpoint_id,
                "request_id": transaction.request_id,
                "leika_key": transaction.leika_key,
                "amount": transaction.amount,
                "created_at": transaction.created_at,
                "late_provider_status": transaction.late_provider_status,
                "late_reported_at": transaction.late_reported_at,
            }
        )

    # -- answers ---------------------------------------------------------------------------

    def answer(self, transaction: PaymentTransaction) -> PaymentTransactionAnswer:
        """The transaction as senders read it: their request and its paymentInformation."""
        return PaymentTransactionAnswer.model_validate(
            {**transaction.request, "paymentInformation": self.payment_information(transaction)}
        )

    def transaction_url(self, transaction: PaymentTransaction) -> str:
        return (
            f"{self.settings.public_base_url}/paymenttransaction/"
            f"{transaction.originator_id}/{transaction.endpoint_id}/{transaction.id}"
        )

    def return_url(self, transaction: PaymentTransaction) -> str:
        return f"{self.settings.public_base_url}/paymenttransaction-return/{transaction.id}"

    def notification_url(self, transaction: PaymentTransaction) -> str:
        return f"{self.settings.public_base_url}/provider-notifications/{transaction.id}"

    def payment_information(self, transaction: PaymentTransaction) -> PaymentInformation:
        return PaymentInformation.model_validate(
            {
                "transaction_id": str(transaction.id),
                "transaction_reference": transaction.kassenzeichen,
                "transaction_url": self.transaction_url(transaction),
                "transaction_redirect_url": transaction.checkout_url
                if transaction.status == "INITIAL"
                else None,
                "transaction_timestamp": transaction.status_changed_at,
                "payment_method": transaction.payment_method,
                "status": transaction.status,
                "status_detail": transaction.status_detail,
            }
        )


async def reconciliation_report(
    session: AsyncSession, first: date | None, last: date | None
) -> ReconciliationReport:
    """Per day (UTC) and Kassenzeichen from `first` to `last` (default: today): what was paid, what
    is still INITIAL past its timeout, and what the provider turned round after it was final.

    An overdue transaction counts under the day its timeout passed; one that went overdue before
    `first` and is still INITIAL shows under `first`, as it is still open.
    """
    moment = now()
    last = last or moment.date()
    first = first or last
    if first > last:
        raise ValidationFailed("`from` must not be after `to`.")
    if (last - first).days >= RECONCILIATION_MAX_DAYS:
        raise ValidationFailed(f"A report covers at most {RECONCILIATION_MAX_DAYS} days.")
    start = datetime.combine(first, time(), UTC)
    end = datetime.combine(last + timedelta(days=1), time(), UTC)
    entries: list[ReconciliationEntry] = []
    for row in await repository.reconciliation_rows(session, start, end, moment):
        if row.status == "PAYED" and start <= row.status_changed_at < end:
            entries.append(_entry(row, "PAYED", row.status_changed_at, first))
        if row.status == "INITIAL" and row.expires_at < moment:
            entries.append(_entry(row, "OVERDUE", row.expires_at, first))
        if row.late_reported_at is not None and start <= row.late_reported_at < end:
            entries.append(_entry(row, "TURNED_ROUND", row.late_reported_at, first))
    by_day: dict[date, list[ReconciliationEntry]] = defaultdict(list)
    for entry in sorted(entries, key=lambda e: (e.day, e.kassenzeichen, e.kind)):
        by_day[entry.day].append(entry)
    return ReconciliationReport.model_validate(
        {
            "from": first,
            "to": last,
            "days": [
                ReconciliationDay(
                    day=day,
                    payed=_sum(day_entries, "PAYED"),
                    overdue=_sum(day_entries, "OVERDUE"),
                    turned_round=_sum(day_entries, "TURNED_ROUND"),
                    entries=day_entries,
                )
                for day, day_entries in sorted(by_day.items())
            ],
        }
    )


def reconciliation_csv(report: ReconciliationReport) -> str:
    """The report's entries as CSV (RFC 4180, a header line, amounts with a decimal point)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for day in report.days:
        for entry in day.entries:
            row = entry.model_dump(mode="json", by_alias=True)
            writer.writerow(["" if row[column] is None else row[column] for column in CSV_COLUMNS])
    return out.getvalue()


def _entry(
    row: PaymentTransaction, kind: ReconciliationKind, at: datetime, first: date
) -> ReconciliationEntry:
    return ReconciliationEntry.model_validate(
        {
            "day": max(at.astimezone(UTC).date(), first),
            "kassenzeichen": row.kassenzeichen,
            "kind": kind,
            "amount": row.amount,
            "transaction_id": str(row.id),
            "case_id": row.case_id,
            "originator_id": row.originator_id,
            "end_point_id": row.endpoint_id,
            "status": row.status,
            "provider_status": row.late_provider_status if kind == "TURNED_ROUND" else None,
            "payment_method": row.payment_method,
            "at": at,
        }
    )


def _sum(entries: list[ReconciliationEntry], kind: ReconciliationKind) -> ReconciliationSum:
    of_kind = [entry for entry in entries if entry.kind == kind]
    return ReconciliationSum(count=len(of_kind), amount=sum((e.amount for e in of_kind), Decimal(0)))
