"""What operators see of a case: its submissions and its event log, each SET decoded."""

import uuid
from datetime import datetime
from typing import Any

from ozg_common.schemas import Schema


class CaseSubmission(Schema):
    """A submission of the case as an operator sees it: where it goes and how far it got."""

    submission_id: uuid.UUID
    destination_id: str
    leika_key: str
    service_name: str
    origin: str
    sender_client_id: str
    status: str
    created_at: datetime
    last_event_at: datetime
    delivery_error: str | None


class CaseEvent(Schema):
    """One Security Event Token of the log: what happened, to which submission, who vouches for it."""

    event: str
    """The FIT-Connect event name, e.g. `submit-submission`."""
    submission_id: uuid.UUID
    recorded_at: datetime
    header: dict[str, Any] | None
    claims: dict[str, Any] | None
    """The SET's claims (`iss`, `iat`, `jti`, `sub`, `txn`, `events`), decoded, not re-verified."""
    token: str


class CaseEvents(Schema):
    case_id: uuid.UUID
    submissions: list[CaseSubmission]
    events: list[CaseEvent]
