"""Events of the submission service: the application's lifecycle."""

from typing import Any

from pydantic import BaseModel

from ozg_common.contracts.topics import SUBMISSION
from ozg_common.events import Event, UtcDatetime


class CaseEvent(Event):
    """Base of events about one case (Vorgang); keyed by the case id."""

    case_id: str

    def partition_key(self) -> str:
        return self.case_id

    def subject(self) -> str:
        return f"case:{self.case_id}"


class AttachmentRef(BaseModel):
    """An encrypted attachment kept by submission, fetched by whoever delivers it."""

    attachment_id: str
    size: int
    sha512: str
    download_url: str
    content: str | None = None
    """The JWE compact string itself, for attachments small enough to travel in the event."""


class SubmissionSubmitted(CaseEvent):
    """An application was completely received; it may still wait for its payment."""

    event_type = "submission.submitted"
    topic = SUBMISSION

    submission_id: str
    destination_id: str
    leika_key: str
    service_name: str
    authority_name: str | None = None
    mailbox_uuid: str | None = None
    payment_required: bool = False
    payment_transaction_id: str | None = None
    submitted_at: UtcDatetime


class SubmissionReadyForDelivery(CaseEvent):
    """An application is complete (and paid where required): deliver it to its destination."""

    event_type = "submission.ready_for_delivery"
    topic = SUBMISSION

    submission_id: str
    destination_id: str
    leika_key: str
    service_name: str
    encrypted_metadata: str
    encrypted_data: str | None = None
    attachments: list[AttachmentRef] = []
    submission_url: str | None = None
    """Where the destination fetches the whole submission (FIT-Connect subscriber API, its own token);
    `encrypted_data` is None when it was too large to travel in the event."""
    authentication_tags: dict[str, Any] | None = None
    """The GCM tags of the JWEs as submitted (`authenticationTags` of submit-submission): what an
    accept signed by kop-gateway repeats. None from a submission older than the field."""


class SubmissionDeleted(CaseEvent):
    """An application's payloads were deleted (retention or request)."""

    event_type = "submission.deleted"
    topic = SUBMISSION

    submission_id: str
    reason: str


class SubmissionPickupReminder(CaseEvent):
    """A forwarded application was not picked up yet: remind its destination (FIT-Connect: days 3 and 9)."""

    event_type = "submission.pickup_reminder"
    topic = SUBMISSION

    submission_id: str
    destination_id: str
    reminder: int
    """1 for the first reminder, 2 for the second."""
    forwarded_at: UtcDatetime
    auto_reject_at: UtcDatetime | None = None
    """When the application is rejected automatically unless it is picked up."""


class CitizenReplyReadyForDelivery(CaseEvent):
    """A citizen's answer to the authority, encrypted for the destination: deliver it."""

    event_type = "submission.reply_ready_for_delivery"
    topic = SUBMISSION

    reply_id: str
    submission_id: str
    destination_id: str
    in_reply_to: str
    encrypted_reply: str
