"""The receiver's database: every delivery it accepted, and the applications it works on."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ozg_common.db import new_metadata, utc_datetime


class Model(DeclarativeBase):
    """Base of the demo receiver's ORM models."""

    metadata = new_metadata()


class Delivery(Model):
    """One KOP delivery (submission, citizen reply or read receipt), stored once per delivery id."""

    __tablename__ = "deliveries"

    delivery_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    destination_id: Mapped[str] = mapped_column(String(100), index=True)
    submission_id: Mapped[str | None] = mapped_column(String(100), index=True)
    case_id: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(utc_datetime())
    repeats: Mapped[int] = mapped_column(Integer, default=0)
    """How often the same delivery id came again (answered 2xx, not stored again)."""
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)


class Stage(enum.StrEnum):
    """Where an application stands in the Fachverfahren; the return channel mirrors it."""

    RECEIVED = "received"
    ACCEPTED = "accepted"
    PROCESSING = "processing"
    REPLIED = "replied"
    COMPLETED = "completed"
    REJECTED = "rejected"
    FAILED = "failed"


FINAL_STAGES = frozenset({Stage.COMPLETED, Stage.REJECTED, Stage.FAILED})


class Application(Model):
    """A citizen's application (one per submission id), however often it was delivered."""

    __tablename__ = "applications"

    submission_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(100), index=True)
    destination_id: Mapped[str] = mapped_column(String(100))
    leika_key: Mapped[str | None] = mapped_column(String(20))
    service_name: Mapped[str | None] = mapped_column(String(300))
    first_delivery_id: Mapped[str] = mapped_column(String(100))
    deliveries: Mapped[int] = mapped_column(Integer, default=1)
    """Distinct delivery ids that carried this submission: more than one is a duplicate."""
    received_at: Mapped[datetime] = mapped_column(utc_datetime(), index=True)
    stage: Mapped[str] = mapped_column(String(20), default=Stage.RECEIVED, index=True)
    schema_uri: Mapped[str | None] = mapped_column(String(500))
    data_valid: Mapped[bool | None]
    attachment_count: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    opened_at: Mapped[datetime | None] = mapped_column(utc_datetime())
    accepted_at: Mapped[datetime | None] = mapped_column(utc_datetime())
    processing_at: Mapped[datetime | None] = mapped_column(utc_datetime())
    replied_at: Mapped[datetime | None] = mapped_column(utc_datetime())
    completed_at: Mapped[datetime | None] = mapped_column(utc_datetime())
    rejected_at: Mapped[datetime | None] = mapped_column(utc_datetime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(utc_datetime(), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
