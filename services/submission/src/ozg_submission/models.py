"""The submission database: its own tables, plus the outbox and inbox every service keeps."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ozg_common.db import new_metadata, utc_datetime
from ozg_common.messaging import add_messaging_tables

_Id = BigInteger().with_variant(Integer(), "sqlite")


class Model(DeclarativeBase):
    """Base of the submission service's ORM models."""

    metadata = new_metadata()


outbox_table, inbox_table = add_messaging_tables(Model.metadata)


class ApiClient(Model):
    """An OAuth2 client (online service, authority, operator); only a hash of its secret is kept."""

    __tablename__ = "api_clients"

    client_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(400))
    previous_secret_hash: Mapped[str | None] = mapped_column(String(400))
    previous_valid_until: Mapped[datetime | None] = mapped_column(utc_datetime())
    scopes: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(utc_datetime())
    updated_at: Mapped[datetime] = mapped_column(utc_datetime())


class Destination(Model):
    """zufi's destination as last announced on `zufi.events` (read model)."""

    __tablename__ = "destinations"

    destination_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(500))
    authority_id: Mapped[str] = mapped_column(String(200))
    encryption_kid: Mapped[str] = mapped_column(String(200))
    encryption_key: Mapped[dict[str, Any]] = mapped_column(JSON)
    services: Mapped[list[str]] = mapped_column(JSON)
    reply_channels: Mapped[list[str]] = mapped_column(JSON)
    metadata_versions: Mapped[list[str]] = mapped_column(JSON)
    """The FIT-Connect metadata versions it takes (its `metadataVersions`)."""
    zustellkanal: Mapped[dict[str, Any]] = mapped_column(JSON)
    area_ars: Mapped[str | None] = mapped_column(String(12))
    """The area its authority serves: what a sender restricted to a region may send to."""
    signing_key: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Public JWK the destination's Security Event Tokens (accept/reject) are verified with."""
    updated_at: Mapped[datetime] = mapped_column(utc_datetime())


class Leistung(Model):
    """A service of zufi's catalogue: its form schema, XML namespace and fees (read model)."""

    __tablename__ = "services"

    leika_key: Mapped[str] = mapped_column(String(14), primary_key=True)
    name: Mapped[str] = mapped_column(String(1024))
    level: Mapped[str] = mapped_column(String(20))
    payment_required: Mapped[bool] = mapped_column(Boolean)
    fees: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    form_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    xml_schema_namespace: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(utc_datetime())


class SubmissionStatus(StrEnum):
    """The lifecycle of a submission."""

    INCOMPLETE = "incomplete"
    SUBMITTED = "submitted"
    AWAITING_PAYMENT = "awaiting_payment"
    FORWARDED = "forwarded"
    DELIVERED = "delivered"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DELETED = "deleted"


class Submission(Model):
    """One application to one destination; payloads live in the blob store, referenced by key and hash."""

    __tablename__ = "submissions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    destination_id: Mapped[str] = mapped_column(String(200), index=True)
    sender_client_id: Mapped[str] = mapped_column(String(200))
    leika_key: Mapped[str] = mapped_column(String(14))
    service_name: Mapped[str] = mapped_column(String(1024))
    origin: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(32))
    announced_attachments: Mapped[list[str]] = mapped_column(JSON)
    metadata_key: Mapped[str | None] = mapped_column(String(300))
    metadata_sha512: Mapped[str | None] = mapped_column(String(128))
    metadata_size: Mapped[int | None] = mapped_column(BigInteger)
    data_key: Mapped[str | None] = mapped_column(String(300))
    data_sha512: Mapped[str | None] = mapped_column(String(128))
    data_size: Mapped[int | None] = mapped_column(BigInteger)
    pending_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    authentication_tags: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """FIT-Connect `authenticationTags` of the JWEs as submitted (`metadata`, `data`, `attachments`
    by id): what the submit-submission SET states and a destination's accept must repeat."""
    """Native intake awaiting payment: the metadata to encrypt once paymentInformation is known."""
    payment_required: Mapped[bool] = mapped_column(Boolean, default=False)
    payment_transaction_id: Mapped[str | None] = mapped_column(String(200), index=True)
    payment_status: Mapped[str | None] = mapped_column(String(20))
    mailbox_uuid: Mapped[str | None] = mapped_column(String(64))
    delivery_error: Mapped[str | None] = mapped_column(Text)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(utc_datetime())
    submitted_at: Mapped[datetime | None] = mapped_column(utc_datetime())
    forwarded_at: Mapped[datetime | None] = mapped_column(utc_datetime())
    picked_up_at: Mapped[datetime | None] = mapped_column(utc_datetime())
    decided_at: Mapped[datetime | None] = mapped_column(utc_datetime())
    deleted_at: Mapped[datetime | None] = mapped_column(utc_datetime())
    last_event_at: Mapped[datetime] = mapped_column(utc_datetime())

    __table_args__ = (Index("ix_submissions_status_created", "status", "created_at"),)


class Attachment(Model):
    """An uploaded (encrypted) attachment of a submission."""

    __tablename__ = "attachments"

    submission_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    attachment_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    blob_key: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(BigInteger)
    sha512: Mapped[str] = mapped_column(String(128))
    authentication_tag: Mapped[str | None] = mapped_column(String(64))
    """The JWE's fifth segment (its GCM tag) as uploaded."""
    uploaded_at: Mapped[datetime] = mapped_column(utc_datetime())


class EventLogEntry(Model):
    """One Security Event Token of a case's append-only event log.

    A destination's SET is kept as it was posted. One of our own is kept as its claims (`jti`,
    `details`, `issued_at` as `iat`) and signed the first time the log is read: most logs never are.
    """

    __tablename__ = "event_log"

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    submission_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    event_type: Mapped[str] = mapped_column(String(200))
    token: Mapped[str | None] = mapped_column(Text)
    """The signed SET; NULL for one of ours until the log is first read."""
    jti: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    """The SET's `jti`: ours fixed when the event happened, a destination's as posted; never twice."""
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Our own events: what the SET says about the event (e.g. a rejection's problems)."""
    issued_at: Mapped[datetime] = mapped_column(utc_datetime())


class SenderCallback(Model):
    """Where a sender wants to hear of new events on its submission (FIT-Connect sender callback),
    and how far it has heard: the worker calls it while the log has more entries than announced."""

    __tablename__ = "sender_callbacks"

    submission_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    """Write-only: signs the callbacks, never answered."""
    announced_entries: Mapped[int] = mapped_column(Integer)
    """How many entries of the submission's log the sender has been told of. A count rather than
    the last entry's id: an entry committed after a later one is still counted."""
    next_attempt_at: Mapped[datetime | None] = mapped_column(utc_datetime(), index=True)
    """When the worker may call next (a claim moves it past the attempt); NULL: given up."""
    failures: Mapped[int] = mapped_column(Integer, default=0)
    """Failed attempts since the last success."""
    failing_since: Mapped[datetime | None] = mapped_column(utc_datetime())
    last_error: Mapped[str | None] = mapped_column(Text)


class Payment(Model):
    """The last known outcome of a payment transaction (from `payment.events`)."""

    __tablename__ = "payments"

    transaction_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    case_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20))
    payment_information: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(utc_datetime())
