"""The XBezahldienste 1.0.0 protocol: request, paymentInformation, their limits and error codes.

Spoken three times: by our API towards senders, by the upstream adapter towards a provider, and by
the simulated provider. Field names, limits and patterns are the standard's.
"""

import hashlib
import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from ozg_common.openapi import examples
from ozg_payment.errors import InvalidOriginatorOrEndpoint

TransactionStatus = Literal["INITIAL", "PAYED", "CANCELED", "FAILED"]
FINAL_STATUSES: frozenset[str] = frozenset({"PAYED", "CANCELED", "FAILED"})
PaymentMethod = Literal["GIROPAY", "PAYDIRECT", "CREDITCARD", "PAYPAL", "OTHER"]

MAX_AMOUNT = Decimal("999999.99")
ID_PATTERN = r"^[\w\d-]+$"
"""originatorId, endPointId, requestId and item id: at most 36 word characters or hyphens."""
ID_MAX_LENGTH = 36
PURPOSE_PATTERN = r"^[\w\d\s-]+$"
TEXT_PATTERN = r"^[\w\d\s,.\u00C0-\u017F-]+$"
"""description (of the request and of an item): words, spaces, commas, dots, hyphens, accents."""


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL")
    return value


Identifier = Annotated[str, Field(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN)]
"""An XBezahldienste identifier (requestId, item id)."""
HttpUrl = Annotated[str, Field(min_length=1, max_length=2082), AfterValidator(_http_url)]
Money = Annotated[
    Decimal,
    Field(ge=0, le=MAX_AMOUNT, max_digits=8, decimal_places=2),
    PlainSerializer(float, return_type=float, when_used="json"),
]
"""Euro amounts travel as JSON numbers with at most two decimals."""
Price = Annotated[Money, Field(gt=0)]
"""An amount that must be paid: more than zero."""
TaxRate = Annotated[
    Decimal,
    Field(ge=0, le=100, max_digits=5, decimal_places=2),
    PlainSerializer(float, return_type=float, when_used="json"),
]
"""Percent."""


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class PaymentItem(CamelModel):
    """One position of the payment (a fee item)."""

    id: Identifier
    description: str = Field(min_length=1, max_length=250, pattern=TEXT_PATTERN)
    price: Price
    quantity: int = Field(default=1, ge=1, le=9999)
    tax_rate: TaxRate = Decimal(0)
    booking_data: dict[str, str] | None = None


class PaymentRequest(CamelModel):
    """`POST /paymenttransaction/{originatorId}/{endPointId}` body, as XBezahldienste limits it."""

    request_id: Identifier
    request_timestamp: datetime
    currency: Literal["EUR"]
    amount: Price
    purpose: str = Field(min_length=1, max_length=27, pattern=PURPOSE_PATTERN)
    description: str | None = Field(default=None, max_length=250, pattern=TEXT_PATTERN)
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
    """A transaction as the simulated provider answers it: the request and its paymentInformation."""

    payment_information: PaymentInformation


def provider_payment_information(answer: Any) -> PaymentInformation:
    """The paymentInformation in a provider's answer, whether or not the provider echoes the request.

    Real providers answer `{"paymentInformation": {...}}` alone or the paymentInformation object
    itself; the simulated one echoes the request around it. Raises pydantic's ValidationError.
    """
    if isinstance(answer, dict) and "paymentInformation" in answer:
        answer = answer["paymentInformation"]
    return PaymentInformation.model_validate(answer)


def fingerprint(request: PaymentRequest) -> str:
    """What makes two requests with one requestId the same request.

    The timestamp is left out: it records when a client sent, not what it asked for.
    """
    body = request.model_dump(mode="json", by_alias=True, exclude={"request_timestamp"})
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def check_ids(originator_id: str, endpoint_id: str) -> None:
    """originatorId and endPointId must be XBezahldienste identifiers, nothing else."""
    for value in (originator_id, endpoint_id):
        if len(value) > ID_MAX_LENGTH or not re.fullmatch(ID_PATTERN, value):
            raise InvalidOriginatorOrEndpoint(
                "originatorId and endPointId must be 1 to 36 letters, digits, underscores or hyphens."
            )
