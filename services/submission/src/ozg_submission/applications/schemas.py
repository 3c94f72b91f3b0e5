"""Native intake: the application a form sends, and the answer."""

import uuid
from datetime import date
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from ozg_common.openapi import examples
from ozg_common.schemas import Schema


class Address(Schema):
    street: str | None = None
    house_number: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None


class Applicant(Schema):
    """The XSD has the last word on lengths and patterns; here only the JSON shape is checked."""

    given_name: str
    family_name: str
    birth_date: date | None = None
    email: str | None = None
    phone: str | None = None
    address: Address | None = None


class ApplicationRequest(Schema):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "leikaKey": "99050035001000",
                "ars": "010585801000",
                "applicant": {
                    "givenName": "Erika",
                    "familyName": "Mustermann",
                    "birthDate": "1984-08-12",
                    "email": "erika.mustermann@example.org",
                    "address": {
                        "street": "Dorfstraße",
                        "houseNumber": "4",
                        "postalCode": "24259",
                        "city": "Westensee",
                    },
                },
                "formData": {"taetigkeit": "Einzelhandel mit Backwaren", "beginn": "2027-01-01"},
                "replyChannel": {"idBundDeMailbox": {"mailboxUuid": "6f1c2e1e-2f7a-4d53-9a8b-0f4c1d2e3a4b"}},
                "senderReference": "portal-2026-000123",
            }
        )
    )

    leika_key: str = Field(pattern=r"^99\d{12}$")
    ars: str | None = Field(default=None, pattern=r"^\d{2}$|^\d{3}$|^\d{5}$|^\d{9}$|^\d{12}$")
    ags: str | None = Field(default=None, pattern=r"^\d{8}$")
    destination_signature: str | None = Field(default=None, max_length=4096)
    applicant: Applicant
    form_data: dict[str, Any]
    reply_channel: dict[str, Any] | None = None
    payment_information: dict[str, Any] | None = None
    sender_reference: str | None = Field(default=None, max_length=255)

    @model_validator(mode="after")
    def _one_area(self) -> "ApplicationRequest":
        given = [v for v in (self.ars, self.ags, self.destination_signature) if v]
        if len(given) != 1:
            raise ValueError("name exactly one of ars, ags or destinationSignature")
        return self

    @property
    def mailbox_uuid(self) -> str | None:
        mailbox = (self.reply_channel or {}).get("idBundDeMailbox")
        value = mailbox.get("mailboxUuid") if isinstance(mailbox, dict) else None
        return str(value) if value else None

    @property
    def payment_transaction_id(self) -> str | None:
        value = (self.payment_information or {}).get("transactionId")
        return str(value) if value else None


class Fee(Schema):
    id: str
    description: str
    price: str
    quantity: int
    tax_rate: str
    booking_data: dict[str, str] = {}


class PaymentState(Schema):
    required: bool
    status: str | None = None
    transaction_id: str | None = None
    fees: list[Fee] = []
    amount: str | None = None


class ApplicationAnswer(Schema):
    submission_id: uuid.UUID
    case_id: uuid.UUID
    destination_id: str
    status: str
    status_url: str
    payment: PaymentState | None = None
    delivery_error: str | None = None
