"""The zufi database: areas, the service catalogue, authorities with their Zustellkanal, responsibilities.

Plus the outbox and inbox every service keeps.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ozg_common.contracts.zufi import METADATA_VERSIONS
from ozg_common.db import new_metadata, utc_datetime
from ozg_common.messaging import add_messaging_tables


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(DeclarativeBase):
    """Base of the zufi service's ORM models."""

    metadata = new_metadata()


class Area(Model):
    """A Land, Regierungsbezirk, Kreis, Gemeindeverband or Gemeinde, keyed by its ARS (2 to 12 digits)."""

    __tablename__ = "areas"

    ars: Mapped[str] = mapped_column(String(12), primary_key=True)
    ags: Mapped[str | None] = mapped_column(String(8), index=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    kind_code: Mapped[int | None] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(60))
    parent_ars: Mapped[str | None] = mapped_column(String(12), index=True)
    postal_code: Mapped[str | None] = mapped_column(String(5))
    population: Mapped[int | None] = mapped_column(Integer)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class PostalCode(Model):
    """One postal code covering one Gemeinde (many-to-many: the pair is the key)."""

    __tablename__ = "postal_codes"

    postal_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    ars: Mapped[str] = mapped_column(ForeignKey("areas.ars"), primary_key=True, index=True)


class Service(Model):
    """A Leistung of the catalogue, keyed by its LeiKa key."""

    __tablename__ = "services"

    leika_key: Mapped[str] = mapped_column(String(14), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(10))
    payment_required: Mapped[bool] = mapped_column(Boolean, default=False)
    fees: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    form_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    xml_schema_namespace: Mapped[str | None] = mapped_column(String(500))
    xml_schema_location: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    required_documents: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))
    """Erforderliche Unterlagen: text (may hold HTML) by language code, `de` always."""
    legal_basis: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))
    """Rechtsgrundlagen: text by language code."""
    deadline: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))
    """Fristen: text by language code."""
    processing_duration: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    """Bearbeitungsdauer as the Routing API shows it: `minDuration`, `maxDuration`, `unit`."""
    updated_at: Mapped[datetime] = mapped_column(utc_datetime(), default=utcnow)


class Authority(Model):
    """An Organisationseinheit: who does the work for an area."""

    __tablename__ = "authorities"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str | None] = mapped_column(String(100))
    area_ars: Mapped[str] = mapped_column(ForeignKey("areas.ars"), index=True)
    address: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Hausanschrift: `street`, `houseNumber`, `additional`, `zip`, `city`."""
    postal_address: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Postanschrift, shaped as `address`."""
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Kontaktpersonen: `name`, `role`, `tel`, `fax`, `email`."""
    logo_url: Mapped[str | None] = mapped_column(String(1000))
    privacy_policy_url: Mapped[str | None] = mapped_column(String(1000))
    imprint_url: Mapped[str | None] = mapped_column(String(1000))
    accessibility_url: Mapped[str | None] = mapped_column(String(1000))
    contact_form_url: Mapped[str | None] = mapped_column(String(1000))
    generated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(utc_datetime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(utc_datetime(), default=utcnow)


class Destination(Model):
    """An authority's Zustellkanal: where applications go and the key they are encrypted for."""

    __tablename__ = "destinations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    channel_type: Mapped[str] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(String(1000))
    signature_scheme: Mapped[str] = mapped_column(String(30))
    encryption_kid: Mapped[str] = mapped_column(String(200))
    encryption_key: Mapped[dict[str, Any]] = mapped_column(JSON)
    signing_key: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Public JWK the authority signs its Security Event Tokens (accept/reject) with; optional."""
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    """What it offers: what its administrator declared plus what routing sends it (`catalogue/offers.py`)."""
    declared_services: Mapped[list[str]] = mapped_column(JSON, default=list)
    """What its administrator declared (the admin API's `services`); none for a generated destination."""
    reply_channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    metadata_versions: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(METADATA_VERSIONS))
    """The FIT-Connect metadata versions it takes, as FIT-Connect's `metadataVersions` lists them."""
    updated_at: Mapped[datetime] = mapped_column(utc_datetime(), default=utcnow)
    """When an administrator (or an import) last wrote it. The background recompute of `services`
    leaves it alone: routing never reads that list, and the index refresh watches this column."""


class Responsibility(Model):
    """A Zuständigkeit: this authority does this service in this area, overriding the level rule."""

    __tablename__ = "responsibilities"
    __table_args__ = (
        UniqueConstraint("leika_key", "area_ars"),
        Index("ix_responsibilities_authority", "authority_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    leika_key: Mapped[str] = mapped_column(ForeignKey("services.leika_key"))
    area_ars: Mapped[str] = mapped_column(ForeignKey("areas.ars"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    updated_at: Mapped[datetime] = mapped_column(utc_datetime(), default=utcnow)


class OfferRecompute(Model):
    """What the finished recomputes of the destinations' `services` covered, whichever replica ran them.

    One row: the routing data they were computed from (its fingerprint) and the services recomputed
    from it (null: every one). A replica asked to recompute services already covered for the same
    data has nothing to do.
    """

    __tablename__ = "offer_recomputes"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(Text)
    services: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    finished_at: Mapped[datetime] = mapped_column(utc_datetime(), default=utcnow)


outbox_table, inbox_table = add_messaging_tables(Model.metadata)
