"""Admin views of deliveries and their attempts."""

import uuid
from datetime import datetime

from ozg_common.schemas import Schema
from ozg_kop_gateway.models import DeliveryKind, DeliveryState


class AttemptView(Schema):
    """One attempt: when, where, the answer's status, latency and its first 500 bytes."""

    number: int
    started_at: datetime
    duration_ms: float
    url: str | None
    status_code: int | None
    error: str | None
    response_excerpt: str | None


class DeliveryView(Schema):
    """A delivery's state and schedule."""

    id: uuid.UUID
    kind: DeliveryKind
    destination_id: str
    case_id: str
    submission_id: str | None
    state: DeliveryState
    attempt_count: int
    next_attempt_at: datetime | None
    expires_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None


class DeliveryDetail(DeliveryView):
    attempts: list[AttemptView]


class DeliveryPage(Schema):
    count: int
    offset: int
    total_count: int
    deliveries: list[DeliveryView]


class ReplayResult(Schema):
    replayed: int
