"""Applications with their status monitor, as the API shows them."""

import uuid
from datetime import datetime
from typing import Literal

from ozg_common.contracts.delivery import StatusMonitorState
from ozg_common.schemas import Schema
from ozg_mailbox.messages.repository import MessageHeader
from ozg_mailbox.models import Application
from ozg_mailbox.schemas import Page


class StatusStepRead(Schema):
    status: StatusMonitorState
    occurred_at: datetime
    note: str | None


class ApplicationRead(Schema):
    """An application and its status monitor (timeline oldest first)."""

    application_id: uuid.UUID
    mailbox_uuid: uuid.UUID
    reference: str
    """The case id (Vorgang)."""
    submission_id: str | None
    service: str | None
    leika_key: str | None
    authority: str | None
    status: StatusMonitorState
    status_detail: str | None
    outcome: str | None
    payment_required: bool
    payment_status: str | None
    steps: list[StatusStepRead]

    @classmethod
    def of(cls, application: Application) -> "ApplicationRead":
        return cls.model_validate(
            {
                "application_id": application.id,
                "mailbox_uuid": application.mailbox_id,
                "reference": application.case_id,
                "submission_id": application.submission_id,
                "service": application.service_name,
                "leika_key": application.leika_key,
                "authority": application.authority_name,
                "status": application.status,
                "status_detail": application.status_detail,
                "outcome": application.outcome,
                "payment_required": application.payment_required,
                "payment_status": application.payment_status,
                "steps": [
                    StatusStepRead(status=s.status, occurred_at=s.occurred_at, note=s.note)  # type: ignore[arg-type]
                    for s in application.timeline
                ],
            }
        )


class ApplicationPage(Page):
    applications: list[ApplicationRead]


class StepTime(Schema):
    """A step of the status monitor and when it happened (the authority's note left out)."""

    status: StatusMonitorState
    occurred_at: datetime


class MessageHeaderRead(Schema):
    """A message as operators may see it: who, what title, when, read or not — never the content."""

    message_id: uuid.UUID
    origin: Literal["authority", "system"]
    sender: str
    title: str
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, header: MessageHeader) -> "MessageHeaderRead":
        return cls.model_validate({"message_id": header.id, **header._asdict()})


class ApplicationTrail(Schema):
    """An application as operators see it (`GET /v1/admin/applications/{caseId}`).

    Free texts that may carry personal data (status details, the authority's notes, message
    content) and the citizen's mailbox uuid stay out; `mailboxLinked` only says whether the
    citizen can be reached.
    """

    case_id: str
    application_id: uuid.UUID
    submission_id: str | None
    destination_id: str | None
    leika_key: str | None
    service: str | None
    authority: str | None
    mailbox_linked: bool
    status: StatusMonitorState
    outcome: str | None
    payment_required: bool
    payment_status: str | None
    payment_transaction_id: str | None
    created_at: datetime
    updated_at: datetime
    steps: list[StepTime]
    messages: list[MessageHeaderRead]

    @classmethod
    def of(cls, application: Application, messages: list[MessageHeader]) -> "ApplicationTrail":
        return cls.model_validate(
            {
                "case_id": application.case_id,
                "application_id": application.id,
                "submission_id": application.submission_id,
                "destination_id": application.destination_id,
                "leika_key": application.leika_key,
                "service": application.service_name,
                "authority": application.authority_name,
                "mailbox_linked": application.mailbox_id is not None,
                "status": application.status,
                "outcome": application.outcome,
                "payment_required": application.payment_required,
                "payment_status": application.payment_status,
                "payment_transaction_id": application.payment_transaction_id,
                "created_at": application.created_at,
                "updated_at": application.updated_at,
                "steps": [{"status": s.status, "occurred_at": s.occurred_at} for s in application.timeline],
                "messages": [MessageHeaderRead.of(header) for header in messages],
            }
        )
