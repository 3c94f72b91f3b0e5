"""The XBezahldienste protocol: request, paymentInformation and their limits.

Spoken three times: by our API towards senders, by the upstream adapter towards a provider, and by
the simulated provider. Field names are the standard's (camelCase); limits are the standard's.
"""

import hashlib
import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from ozg_common.openapi import examples
from ozg_payment.errors import InvalidOriginatorOrEndpoint

TransactionStatus = Literal["INITIAL", "PAYED", "CANCELED", "FAILED"]
FINAL_STATUSES: frozenset[str] = frozenset({"PAYED", "CANCELED", "FAILED"})
PaymentMethod = Literal["GIROPAY", "PAYDIRECT", "CREDITCARD", "PAYPAL", "OTHER"]

MAX_AMOUNT = Decimal("999999.99")
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
"""originatorId / endPointId: a client id or an AGS, nothing that needs escaping in a URL."""


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL")
    return value


HttpUrl = Annotated[str, Field(min_length=1, max_length=2082), AfterValidator(_http_url)]
Money = Annotated[
    Decimal,
    Field(ge=0, le=MAX_AMOUNT, max_digits=8, decimal_places=2),
    PlainSerializer(float, return_type=float, when_used="json"),
]
"""Euro amounts travel as JSON numbers with at most two decimals."""


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class PaymentItem(CamelModel):
    """One position of the payment (a fee item)."""

    id: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=250)
    price: Money
    quantity: int = Field(default=1, ge=1, le=9999)
    tax_rate: Annotated[
        Decimal,
        Field(ge=0, le=100, max_digits=5, decimal_places=2),
        PlainSerializer(float, return_type=float, when_used="json"),
    ] = Decimal(0)
    booking_data: dict[str, str] | None = None


class PaymentRequest(CamelModel):
    """`POST /paymenttransaction/{originatorId}/{endPointId}` body, as XBezahldienste limits it."""

    request_id: str = Field(min_length=1, max_length=36)
    request_timestamp: datetime
    currency: Literal["EUR"]
    amount: Annotated[Money, Field(gt=0)]
    purpose: str = Field(min_length=1, max_length=27)
    description: str | None = Field(default=None, max_length=250)
    redirect_url: HttpUrl
    items: list[PaymentItem] = Field(min_length=1, max_length=99)


class PaymentInformation(CamelModel):
    """paymentInformation: copied 1:1 into the application's metadata."""

    transaction_id: str
    transaction_reference: str | None = None
    """The Kassenzeichen."""
    transaction_url: str | None = None
    transaction_redirect_url: str | None = None
    """The checkout page; only while the transaction is INITIAL."""
    transaction_timestamp: datetime | None = None
    payment_method: PaymentMethod | None = None
    status: TransactionStatus
    status_detail: str | None = None


class ProviderPaymentRequest(PaymentRequest):
    """What the payment service sends a provider: the request plus two OZG extensions."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "requestId": "9d1c4f0e-6b2a-4e8f-a3c1-5d7e9f0a1b2c",
                "requestTimestamp": "2026-12-07T09:30:00Z",
                "currency": "EUR",
                "amount": 26.0,
                "purpose": "Gewerbeanmeldung",
                "redirectUrl": "https://payment.example.org/paymenttransaction-return/TX-0001",
                "items": [{"id": "GEW-AN", "description": "Gebühr Gewerbeanmeldung", "price": 26.0}],
                "transactionReference": "KZ-2026-000123",
                "notificationUrl": "https://payment.example.org/provider-notifications/TX-0001",
            }
        )
    )

    transaction_reference: str | None = Field(default=None, max_length=32)
    """The Kassenzeichen the payment service assigned; the provider shows it to the citizen."""
    notification_url: HttpUrl | None = None
    """Where the provider POSTs (no body needed) when the status changed; only a hint to re-check."""


class PaymentTransactionAnswer(PaymentRequest):
    """A transaction as a provider answers it: the request and its paymentInformation."""

    payment_information: PaymentInformation


def fingerprint(request: PaymentRequest) -> str:
    """What makes two requests with one requestId the same request (GOV.UK Pay's idempotency rule).

    The timestamp is left out: it records when a client sent, not what it asked for, so a retry
    with a fresh timestamp is still the same request.
    """
    body = request.model_dump(mode="json", by_alias=True, exclude={"request_timestamp"})
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def check_ids(originator_id: str, endpoint_id: str) -> None:
    """originatorId and endPointId must be ids, nothing else."""
    if not (re.fullmatch(ID_PATTERN, originator_id) and re.fullmatch(ID_PATTERN, endpoint_id)):
        raise InvalidOriginatorOrEndpoint("originatorId and endPointId must be 1–64 letters, digits or ._:-")
