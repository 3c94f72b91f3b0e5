"""Messages as the API shows them (field names of the BundID Postfach, standards.md §5)."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from ozg_common.openapi import examples
from ozg_common.schemas import Schema
from ozg_mailbox.models import Application, Attachment, Message, Reply
from ozg_mailbox.schemas import Page


class AttachmentRead(Schema):
    attachment_id: uuid.UUID
    filename: str
    mime_type: str
    sha512: str
    length: int

    @classmethod
    def of(cls, attachment: Attachment) -> "AttachmentRead":
        return cls(
            attachment_id=attachment.id,
            filename=attachment.filename,
            mime_type=attachment.mime_type,
            sha512=attachment.sha512,
            length=attachment.size,
        )


class ReplyRead(Schema):
    """A reply the citizen sent."""

    reply_id: uuid.UUID
    title: str
    content: str
    created_at: datetime

    @classmethod
    def of(cls, reply: Reply) -> "ReplyRead":
        return cls(reply_id=reply.id, title=reply.title, content=reply.content, created_at=reply.created_at)


class MessageSummary(Schema):
    """A message in the inbox list."""

    message_id: uuid.UUID
    mailbox_uuid: uuid.UUID
    origin: Literal["authority", "system"]
    sender: str = Field(min_length=1, max_length=255)
    title: str = Field(min_length=1, max_length=1024)
    service: str | None
    application_id: uuid.UUID
    reference: str
    """The case id (Vorgang) the message belongs to."""
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def fields_of(cls, message: Message, application: Application) -> dict[str, object]:
        assert application.mailbox_id is not None
        return {
            "message_id": message.id,
            "mailbox_uuid": application.mailbox_id,
            "origin": message.origin,
            "sender": message.sender,
            "title": message.title,
            "service": application.service_name,
            "application_id": application.id,
            "reference": application.case_id,
            "created_at": message.created_at,
            "read_at": message.read_at,
        }

    @classmethod
    def of(cls, message: Message, application: Application) -> "MessageSummary":
        return cls.model_validate(cls.fields_of(message, application))


class MessageRead(MessageSummary):
    """One message with its content and attachments."""

    content: str
    reply_address: str | None
    retrieval_confirmation_address: str | None
    attachments: list[AttachmentRead]
    replies: list[ReplyRead]

    @classmethod
    def of(cls, message: Message, application: Application) -> "MessageRead":
        return cls.model_validate(
            {
                **MessageSummary.fields_of(message, application),
                "content": message.content,
                "reply_address": message.reply_address,
                "retrieval_confirmation_address": message.retrieval_confirmation_address,
                "attachments": [AttachmentRead.of(a) for a in message.attachments],
                "replies": [ReplyRead.of(r) for r in message.replies],
            }
        )


class MessagePage(Page):
    messages: list[MessageSummary]


Filename = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^/\\\x00-\x1f]+$")]


class ReplyAttachment(Schema):
    filename: Filename
    mime_type: str = Field(min_length=1, max_length=255)
    content_base64: str


class ReplyCreate(Schema):
    """`POST /v1/mailbox/messages/{messageId}/replies`."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "title": "Nachreichung",
                "content": "Anbei der fehlende Nachweis.",
                "attachments": [
                    {
                        "filename": "nachweis.pdf",
                        "mimeType": "application/pdf",
                        "contentBase64": "JVBERi0xLjcKJcfsj6IK",
                    }
                ],
            }
        )
    )

    title: str = Field(min_length=1, max_length=1024)
    content: str = Field(min_length=1)
    attachments: list[ReplyAttachment] = []
