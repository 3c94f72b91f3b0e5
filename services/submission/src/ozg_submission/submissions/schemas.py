"""FIT-Connect Submission API v1 bodies and answers."""

import uuid

from pydantic import Field

from ozg_common.schemas import Schema


class ServiceType(Schema):
    name: str = Field(min_length=1, max_length=1024)
    identifier: str = Field(pattern=r"^(urn:de:fim:leika:leistung:)?99\d{12}$")


class SubmissionCreate(Schema):
    destination_id: str = Field(min_length=1, max_length=200)
    announced_attachments: list[uuid.UUID] = Field(default_factory=list)
    service_type: ServiceType
    case_id: uuid.UUID | None = None
    mailbox_uuid: str | None = Field(default=None, max_length=64)
    """OZG extension: the citizen's BundID mailbox, for status and replies."""
    payment_transaction_id: str | None = Field(default=None, max_length=200)
    """OZG extension: the XBezahldienste transaction that pays for this application."""


class SubmissionRef(Schema):
    destination_id: str
    submission_id: uuid.UUID
    case_id: uuid.UUID


class SubmissionPayload(Schema):
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
