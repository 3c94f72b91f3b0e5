"""Events of the citizen's mailbox (Postfach)."""

from ozg_common.contracts.delivery import MessageAttachment
from ozg_common.contracts.submission import CaseEvent
from ozg_common.contracts.topics import MAILBOX
from ozg_common.events import UtcDatetime


class MailboxMessageRead(CaseEvent):
    """The citizen opened a message for the first time (read receipt)."""

    event_type = "mailbox.message_read"
    topic = MAILBOX

    message_id: str
    destination_id: str
    retrieval_confirmation_address: str | None = None
    read_at: UtcDatetime


class MailboxCitizenReplied(CaseEvent):
    """The citizen answered a message; goes back to the authority as a follow-up."""

    event_type = "mailbox.citizen_replied"
    topic = MAILBOX

    reply_id: str
    in_reply_to: str
    destination_id: str
    title: str
    content: str
    attachments: list[MessageAttachment] = []
    replied_at: UtcDatetime
