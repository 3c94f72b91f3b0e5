"""The kop-gateway database: its own tables, plus the outbox and inbox every service keeps."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ozg_common.db import new_metadata, utc_datetime
from ozg_common.messaging import add_messaging_tables


class Model(DeclarativeBase):
    """Base of the kop-gateway service's ORM models."""

    metadata = new_metadata()


outbox_table, inbox_table = add_messaging_tables(Model.metadata)


class Destination(Model):
    """Read model of a zufi destination: where and how its applications are delivered."""

    __tablename__ = "destinations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    authority_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    channel_type: Mapped[str] = mapped_column(String(20))
    """`webservice` (the KOP endpoint takes the application) or `fitconnect` (callback only)."""
    url: Mapped[str | None] = mapped_column(String(2048))
    signature_scheme: Mapped[str] = mapped_column(String(30))
    updated_at: Mapped[datetime] = mapped_column(utc_datetime())


class WebhookSecret(Model):
    """An explicit signing secret (AES-GCM encrypted); a retired one signs until `retires_at`."""

    __tablename__ = "webhook_secrets"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    destination_id: Mapped[str] = mapped_column(String(64), index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(utc_datetime())
    retires_at: Mapped[datetime | None] = mapped_column(utc_datetime())


class Case(Model):
    """A case (Vorgang) delivered through this gateway, and the destination that may answer it."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(64))
    destination_id: Mapped[str] = mapped_column(String(64), index=True)
    decision: Mapped[str | None] = mapped_column(String(10))
    """`accept` or `reject` once the authority acknowledged the case."""
    authentication_tags: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The GCM tags of the submission's JWEs as submitted, which an accept repeats (None: delivered
    before the gateway kept them)."""
    created_at: Mapped[datetime] = mapped_column(utc_datetime())


class DeliveryKind(StrEnum):
    """What a delivery carries (the envelope's `type`)."""

    SUBMISSION = "submission"
    REPLY = "reply"
    READ_RECEIPT = "read-receipt"


class DeliveryState(StrEnum):
    """Lifecycle of a delivery: pending until a 2xx, or dead-lettered after its horizon."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    DEAD_LETTERED = "dead_lettered"


class Delivery(Model):
    """One envelope to POST to a destination, with its retry schedule (in the database, not memory)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index(
            "ix_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        Index("ix_deliveries_state_destination", "state", "destination_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[DeliveryKind] = mapped_column(String(20))
    destination_id: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    submission_id: Mapped[str | None] = mapped_column(String(64))
    source_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The envelope without `deliveryId`; the body is built at each attempt for the current destination."""
    state: Mapped[DeliveryState] = mapped_column(String(20))
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(utc_datetime())
    expires_at: Mapped[datetime] = mapped_column(utc_datetime())
    event_time: Mapped[datetime] = mapped_column(utc_datetime())
    created_at: Mapped[datetime] = mapped_column(utc_datetime())
    delivered_at: Mapped[datetime | None] = mapped_column(utc_datetime())
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)


class DeliveryAttempt(Model):
    """One try of a delivery: when, where, the answer's status, latency and first bytes."""

    __tablename__ = "delivery_attempts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(utc_datetime())
    duration_ms: Mapped[float] = mapped_column(Float)
    url: Mapped[str | None] = mapped_column(String(2048))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
