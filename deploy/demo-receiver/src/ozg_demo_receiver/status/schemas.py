"""The JSON view of received applications and messages."""

from datetime import datetime
from typing import Any

from pydantic import Field

from ozg_common.schemas import Schema


class ApplicationView(Schema):
    submission_id: str
    case_id: str
    destination_id: str
    leika_key: str | None
    service_name: str | None
    deliveries: int
    """Distinct delivery ids that carried this submission (1 = delivered exactly once)."""
    stage: str
    data_valid: bool | None
    attachment_count: int
    problems: list[dict[str, Any]]
    received_at: datetime
    accepted_at: datetime | None
    processing_at: datetime | None
    replied_at: datetime | None
    completed_at: datetime | None
    rejected_at: datetime | None
    attempts: int
    last_error: str | None


class MessageView(Schema):
    """A citizen's reply or read receipt the gateway delivered."""

    delivery_id: str
    kind: str
    destination_id: str
    submission_id: str | None
    case_id: str | None
    received_at: datetime


class Totals(Schema):
    applications: int
    duplicate_submissions: int = Field(description="applications delivered under more than one delivery id")
    repeated_deliveries: int = Field(description="POSTs of an already stored delivery id (deduplicated)")
    by_stage: dict[str, int]


class ApplicationList(Schema):
    totals: Totals
    applications: list[ApplicationView]
    messages: list[MessageView]
