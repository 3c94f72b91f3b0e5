"""Events of the kop-gateway: deliveries and the authority's answers (Rückkanal)."""

from typing import Any, Literal

from pydantic import BaseModel

from ozg_common.contracts.submission import CaseEvent
from ozg_common.contracts.topics import DELIVERY
from ozg_common.events import UtcDatetime


class DeliverySucceeded(CaseEvent):
    """The destination's webservice took the application (answered 2xx)."""

    event_type = "delivery.succeeded"
    topic = DELIVERY

    delivery_id: str
    submission_id: str
    destination_id: str
    attempts: int
    delivered_at: UtcDatetime
    kind: Literal["submission", "reply", "read-receipt"] = "submission"
    """What was delivered: the application, a citizen's reply, or a read receipt."""
    callback: bool | None = None
    """True: only the FIT-Connect new-submissions callback was delivered; the destination fetches the
    application itself. None: sent by a kop-gateway from before this field (look at the destination)."""


class DeliveryDeadLettered(CaseEvent):
    """Delivery gave up after its retry horizon; an operator must look (and may replay)."""

    event_type = "delivery.dead_lettered"
    topic = DELIVERY

    delivery_id: str
    submission_id: str
    destination_id: str
    attempts: int
    last_error: str
    kind: Literal["submission", "reply", "read-receipt"] = "submission"


class CaseAccepted(CaseEvent):
    """The authority accepted the application."""

    event_type = "case.accepted"
    topic = DELIVERY

    submission_id: str
    destination_id: str
    accepted_at: UtcDatetime
    security_event_token: str | None = None


class CaseRejected(CaseEvent):
    """The authority rejected the application, with problem details."""

    event_type = "case.rejected"
    topic = DELIVERY

    submission_id: str
    destination_id: str
    rejected_at: UtcDatetime
    problems: list[dict[str, Any]] = []
    security_event_token: str | None = None


StatusMonitorState = Literal[
    "INITIATED", "SUBMITTED", "RECEIVED", "PROCESSING", "ACTION_REQUIRED", "COMPLETED"
]


class CaseStatusChanged(CaseEvent):
    """The authority reported progress for the citizen's status monitor."""

    event_type = "case.status_changed"
    topic = DELIVERY

    destination_id: str
    status: StatusMonitorState
    note: str | None = None
    changed_at: UtcDatetime


class MessageAttachment(BaseModel):
    """A file sent with a message, carried inline (base64) and checked by sha512."""

    attachment_id: str
    filename: str
    mime_type: str
    size: int
    sha512: str
    content_base64: str


class CaseReplyCreated(CaseEvent):
    """The authority sent a message to the citizen about this case."""

    event_type = "case.reply_created"
    topic = DELIVERY

    message_id: str
    destination_id: str
    sender: str
    title: str
    content: str
    attachments: list[MessageAttachment] = []
    reply_address: str | None = None
    retrieval_confirmation_address: str | None = None
    created_at: UtcDatetime
