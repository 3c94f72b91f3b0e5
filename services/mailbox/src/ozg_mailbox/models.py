"""The mailbox database: its own tables, plus the outbox and inbox every service keeps."""

import uuid
from datetime import datetime
from typing import Any, get_args

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ozg_common.contracts.delivery import StatusMonitorState
from ozg_common.db import new_metadata, utc_datetime
from ozg_common.messaging import add_messaging_tables


class Model(DeclarativeBase):
    """Base of the mailbox service's ORM models."""

    metadata = new_metadata()


outbox_table, inbox_table = add_messaging_tables(Model.metadata)

STATES: tuple[str, ...] = get_args(StatusMonitorState)
"""The status monitor's states in their natural order."""


class Mailbox(Model):
    """A citizen's Postfach; created at first login, or earlier by an event naming its uuid."""

    __tablename__ = "mailboxes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    email_source: Mapped[str | None] = mapped_column(String(10))
    """`token` (follows the login's claim) or `profile` (set by the citizen, kept)."""
    stork_qaa_level: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(utc_datetime())
    last_login_at: Mapped[datetime | None] = mapped_column(utc_datetime())


class Application(Model):
    """One application (Antrag) of a citizen, keyed by its case id, with its status monitor."""

    __tablename__ = "applications"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[str] = mapped_column(String(100), unique=True)
    mailbox_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("mailboxes.id", ondelete="SET NULL"), index=True
    )
    submission_id: Mapped[str | None] = mapped_column(String(100))
    destination_id: Mapped[str | None] = mapped_column(String(100))
    leika_key: Mapped[str | None] = mapped_column(String(100))
    service_name: Mapped[str | None] = mapped_column(String(1024))
    authority_name: Mapped[str | None] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(20), default="INITIATED")
    status_detail: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(20))
    """`rejected` when the authority refused it, `payment_failed` when the payment did not succeed."""
    payment_required: Mapped[bool] = mapped_column(Boolean, default=False)
    payment_transaction_id: Mapped[str | None] = mapped_column(String(100), index=True)
    payment_status: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(utc_datetime())
    updated_at: Mapped[datetime] = mapped_column(utc_datetime())

    steps: Mapped[list["StatusStep"]] = relationship(lazy="raise", cascade="all, delete-orphan")

    @property
    def timeline(self) -> list["StatusStep"]:
        """The steps oldest first; steps at the same moment in the monitor's order."""
        return sorted(self.steps, key=StatusStep.sort_key)


class StatusStep(Model):
    """One step of the status monitor, with the time it happened."""

    __tablename__ = "status_steps"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(utc_datetime())
    note: Mapped[str | None] = mapped_column(Text)

    def sort_key(self) -> tuple[datetime, int]:
        return self.occurred_at, STATES.index(self.status)


class Payment(Model):
    """The last known outcome of a payment; kept even before its application is known."""

    __tablename__ = "payments"

    transaction_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    case_id: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20))
    status_detail: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(utc_datetime())


class Message(Model):
    """A message in the Postfach: from the authority about a case, or from the system."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_created", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    origin: Mapped[str] = mapped_column(String(10))
    """`authority` (answerable, read receipts go back) or `system`."""
    source_message_id: Mapped[str | None] = mapped_column(String(200))
    """The authority's own id of the message (read receipts and replies refer to it)."""
    destination_id: Mapped[str | None] = mapped_column(String(100))
    sender: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(1024))
    content: Mapped[str] = mapped_column(Text)
    reply_address: Mapped[str | None] = mapped_column(String(2048))
    retrieval_confirmation_address: Mapped[str | None] = mapped_column(String(2048))
    sent_at: Mapped[datetime] = mapped_column(utc_datetime())
    created_at: Mapped[datetime] = mapped_column(utc_datetime())
    read_at: Mapped[datetime | None] = mapped_column(utc_datetime())

    application: Mapped[Application] = relationship(lazy="raise")
    """Declared so that a flush writes an application opened in the same transaction before its messages."""
    attachments: Mapped[list["Attachment"]] = relationship(
        lazy="raise", order_by="Attachment.filename", cascade="all, delete-orphan"
    )
    replies: Mapped[list["Reply"]] = relationship(
        lazy="raise", order_by="Reply.created_at", cascade="all, delete-orphan"
    )


class Attachment(Model):
    """A file of a message; its bytes live in the blob store, verified by sha512 and size."""

    __tablename__ = "attachments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha512: Mapped[str] = mapped_column(String(128))


class Reply(Model):
    """What the citizen answered to a message (the content itself went to the authority)."""

    __tablename__ = "replies"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(1024))
    content: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(utc_datetime())


class Notice(Model):
    """An email notice waiting to be sent (the notice outbox); retried on SMTP failure."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_due", "state", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mailboxes.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    """`pending`, `sent`, `skipped` (no address or SMTP off) or `failed` (gave up)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(utc_datetime())
    next_attempt_at: Mapped[datetime] = mapped_column(utc_datetime())
    sent_at: Mapped[datetime | None] = mapped_column(utc_datetime())
    last_error: Mapped[str | None] = mapped_column(Text)
