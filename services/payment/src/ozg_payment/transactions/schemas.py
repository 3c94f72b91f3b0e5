"""The API's payment transaction shapes: XBezahldienste plus two optional OZG extensions."""

from datetime import date, datetime
from typing import Literal

from pydantic import ConfigDict, Field

from ozg_common.openapi import examples
from ozg_payment.xbezahldienste import (
    CamelModel,
    Money,
    PaymentInformation,
    PaymentRequest,
    TransactionStatus,
)


class PaymentTransactionRequest(PaymentRequest):
    """A sender's payment request; `caseId` and `leikaKey` are OZG extensions."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "requestId": "9d1c4f0e-6b2a-4e8f-a3c1-5d7e9f0a1b2c",
                "requestTimestamp": "2026-12-07T09:30:00Z",
                "currency": "EUR",
                "amount": 26.0,
                "purpose": "Gewerbeanmeldung",
                "description": "Gebühr Gewerbeanmeldung",
                "redirectUrl": "https://portal.example.org/antrag/123/bezahlt",
                "items": [
                    {"id": "GEW-AN", "description": "Gebühr Gewerbeanmeldung", "price": 26.0, "quantity": 1}
                ],
                "caseId": "3f2b8c1d-9e4a-4b7c-8d6e-1a2b3c4d5e6f",
                "leikaKey": "99050035001000",
            }
        )
    )

    case_id: str | None = Field(default=None, min_length=1, max_length=100)
    """The case (Vorgang) this payment is for; events are keyed by it."""
    leika_key: str | None = Field(default=None, pattern=r"^99\d{12}$")
    """The service whose fee is paid; without it the item ids identify the service."""


class PaymentTransaction(PaymentTransactionRequest):
    """A transaction as answered: the request and its paymentInformation."""

    payment_information: PaymentInformation


ReconciliationKind = Literal["PAYED", "OVERDUE", "TURNED_ROUND"]
"""What a report entry is: paid that day; still INITIAL past its timeout (since that day); a final
state the provider contradicted that day (money after FAILED: a late PAYED turned it round)."""


class ReconciliationEntry(CamelModel):
    """One transaction in the reconciliation report, under one day and Kassenzeichen."""

    day: date
    kassenzeichen: str
    kind: ReconciliationKind
    amount: Money
    transaction_id: str
    case_id: str | None
    originator_id: str
    end_point_id: str
    status: TransactionStatus
    provider_status: TransactionStatus | None
    """What the provider reported after our state was final (TURNED_ROUND), else nothing."""
    payment_method: str | None
    at: datetime
    """When it was paid, became overdue, or the provider contradicted it."""


class ReconciliationSum(CamelModel):
    """How many entries of one kind a day has, and their amount."""

    count: int
    amount: Money


class ReconciliationDay(CamelModel):
    """One day of the report: the sums per kind and the entries by Kassenzeichen."""

    day: date
    payed: ReconciliationSum
    overdue: ReconciliationSum
    turned_round: ReconciliationSum
    entries: list[ReconciliationEntry]


class ReconciliationReport(CamelModel):
    """What the cash office reconciles for the days from `from` to `to` (UTC)."""

    from_: date = Field(alias="from")
    to: date
    days: list[ReconciliationDay]


class OperatorTransaction(PaymentInformation):
    """A transaction as operators see it: its paymentInformation and where it came from.

    No request body: the operator view carries no more than the sender's own paymentInformation
    plus the routing ids, the amount and the provider's late word, if any.
    """

    case_id: str | None
    originator_id: str
    end_point_id: str
    request_id: str
    leika_key: str
    amount: Money
    created_at: datetime
    late_provider_status: TransactionStatus | None
    """A final state the provider reported after ours was final (needs reconciliation)."""
    late_reported_at: datetime | None


class OperatorTransactionPage(CamelModel):
    """FIT-Connect's pagination fields around a page of transactions."""

    count: int
    offset: int
    total_count: int
    transactions: list[OperatorTransaction]
