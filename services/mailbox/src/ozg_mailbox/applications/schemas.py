"""Applications with their status monitor, as the API shows them."""

import uuid
from datetime import datetime

from ozg_common.contracts.delivery import StatusMonitorState
from ozg_mailbox.models import Application
from ozg_mailbox.schemas import Page, Schema


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
