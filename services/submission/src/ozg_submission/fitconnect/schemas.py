"""FIT-Connect Submission API v1 bodies and answers, for senders and subscribers."""

import uuid

from pydantic import ConfigDict, Field

from ozg_common.openapi import examples
from ozg_common.schemas import Schema
from ozg_submission.callbacks.schemas import CallbackSetup

JOSE = "application/jose"
"""The media type of a JWE or a SET sent or answered as such."""


class ServiceType(Schema):
    name: str = Field(default="", max_length=1024)
    """Public clients send it empty or not at all; the catalogue's name is used then."""
    identifier: str = Field(pattern=r"^(urn:de:fim:leika:leistung:)?\d{14}$")
    """The LeiKa key as its URN (or bare); one the destination does not offer is refused later."""


class SubmissionCreate(Schema):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "destinationId": "8e5a1b2c-3d4e-4f60-8a7b-9c0d1e2f3a4b",
                "announcedAttachments": ["0d8f2b7e-4c1a-4e3b-9f6d-2a5c8e1b7d30"],
                "serviceType": {
                    "name": "Gewerbeanmeldung",
                    "identifier": "urn:de:fim:leika:leistung:99050035001000",
                },
            }
        )
    )

    destination_id: str = Field(min_length=1, max_length=200)
    announced_attachments: list[uuid.UUID] = Field(default_factory=list)
    service_type: ServiceType
    case_id: uuid.UUID | None = None
    mailbox_uuid: str | None = Field(default=None, max_length=64)
    """OZG extension: the citizen's BundID mailbox, for status and replies."""
    payment_transaction_id: str | None = Field(default=None, max_length=200)
    """OZG extension: a transaction opened at our payment service; the submission waits until PAYED."""
    callback: CallbackSetup | None = None
    """Called (signed with its secret) whenever the submission's event log grows."""


class SubmissionRef(Schema):
    destination_id: str
    submission_id: uuid.UUID
    case_id: uuid.UUID


JWE_EXAMPLE = (
    "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIiwiY3R5IjoiYXBwbGljYXRpb24vanNvbiIsImtpZCI6"
    "ImRlc3QtMjAyNi0wMSJ9.kR3ZhbHVlLW9mLXRoZS13cmFwcGVkLWNvbnRlbnQta2V5.NmVhNTU3YTg5YjNh"
    ".c2lnbmVkLWFuZC1lbmNyeXB0ZWQtbWV0YWRhdGE.u8nbG6rJ0tZ9-4Kq1cFh2w"
)
"""The shape of a JWE compact serialisation (five base64url parts), for the API document."""


class SubmissionPayload(Schema):
    model_config = ConfigDict(
        json_schema_extra=examples({"encryptedMetadata": JWE_EXAMPLE, "encryptedData": JWE_EXAMPLE})
    )

    encrypted_metadata: str = Field(min_length=1)
    encrypted_data: str | None = None


class SubmissionList(Schema):
    count: int
    offset: int
    total_count: int
    submissions: list[SubmissionRef]


class SubmissionView(Schema):
    destination_id: str
    submission_id: uuid.UUID
    case_id: uuid.UUID
    service_type: ServiceType
    attachments: list[uuid.UUID]
    encrypted_metadata: str
    encrypted_data: str | None = None


class EventLog(Schema):
    event_log: list[str]


class CaseEventLog(Schema):
    """One page of a case's event log."""

    count: int
    offset: int
    total_count: int
    event_log: list[str]
