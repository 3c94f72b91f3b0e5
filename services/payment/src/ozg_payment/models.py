"""The payment database: transactions, the fee catalogue read model, the simulated provider's
ledger, plus the outbox and inbox every service keeps."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ozg_common.db import new_metadata, utc_datetime
from ozg_common.messaging import add_messaging_tables

Money = Numeric(10, 2)


class Model(DeclarativeBase):
    """Base of the payment service's ORM models."""

    metadata = new_metadata()


outbox_table, inbox_table = add_messaging_tables(Model.metadata)


class PaymentTransaction(Model):
    """One payment a sender asked for (XBezahldienste PaymentTransaction) and its state."""

    __tablename__ = "payment_transaction"
    __table_args__ = (
        UniqueConstraint("originator_id", "endpoint_id", "request_id"),
        Index("ix_payment_transaction_next_check", "next_check_at"),
        Index("ix_payment_transaction_case_id", "case_id"),
        Index("ix_payment_transaction_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    originator_id: Mapped[str] = mapped_column(String(64))
    endpoint_id: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(36))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The validated request as the sender sent it (camelCase), answered back verbatim."""
    client_id: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[str | None] = mapped_column(String(100))
    leika_key: Mapped[str] = mapped_column(String(14))
    amount: Mapped[Decimal] = mapped_column(Money)
    kassenzeichen: Mapped[str] = mapped_column(String(32), unique=True)
    provider_transaction_id: Mapped[str | None] = mapped_column(String(200))
    checkout_url: Mapped[str | None] = mapped_column(String(2082))
    payment_method: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    status_detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(utc_datetime())
    status_changed_at: Mapped[datetime] = mapped_column(utc_datetime())
    expires_at: Mapped[datetime] = mapped_column(utc_datetime())
    next_check_at: Mapped[datetime | None] = mapped_column(utc_datetime())
    failed_checks: Mapped[int] = mapped_column(Integer, default=0)
    late_provider_status: Mapped[str | None] = mapped_column(String(10))
    """A different final state the provider reported after ours was final: needs an operator."""
    late_reported_at: Mapped[datetime | None] = mapped_column(utc_datetime())


class CatalogueService(Model):
    """A Leistung with its fee schedule, as zufi last announced it (`ServiceChanged`)."""

    __tablename__ = "catalogue_service"

    leika_key: Mapped[str] = mapped_column(String(14), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    payment_required: Mapped[bool]
    active: Mapped[bool]
    changed_at: Mapped[datetime] = mapped_column(utc_datetime())


class CatalogueFeeItem(Model):
    """One fee position of a catalogue service."""

    __tablename__ = "catalogue_fee_item"

    leika_key: Mapped[str] = mapped_column(
        ForeignKey("catalogue_service.leika_key", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    description: Mapped[str] = mapped_column(String(500))
    price: Mapped[Decimal] = mapped_column(Money)
    quantity: Mapped[int]
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    booking_data: Mapped[dict[str, str]] = mapped_column(JSON)


class SimulatedProviderTransaction(Model):
    """The simulated provider's own ledger: what a real provider keeps on its side."""

    __tablename__ = "simulated_provider_transaction"
    __table_args__ = (UniqueConstraint("originator_id", "endpoint_id", "request_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    originator_id: Mapped[str] = mapped_column(String(64))
    endpoint_id: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(36))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    reference: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Money)
    purpose: Mapped[str] = mapped_column(String(27))
    redirect_url: Mapped[str] = mapped_column(String(2082))
    notification_url: Mapped[str | None] = mapped_column(String(2082))
    payment_method: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    status_detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(utc_datetime())
    status_changed_at: Mapped[datetime] = mapped_column(utc_datetime())
