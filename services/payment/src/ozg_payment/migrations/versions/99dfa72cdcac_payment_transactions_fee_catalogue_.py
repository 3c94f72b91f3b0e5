"""payment transactions, fee catalogue, simulated provider

Revision ID: 99dfa72cdcac
Revises:
Create Date: 2026-11-29 05:20:10.172511
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ozg_common.migrations import create_messaging_tables, drop_messaging_tables

revision: str = "99dfa72cdcac"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "catalogue_service",
        sa.Column("leika_key", sa.String(length=14), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("payment_required", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("leika_key", name=op.f("pk_catalogue_service")),
    )
    op.create_table(
        "payment_transaction",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("originator_id", sa.String(length=64), nullable=False),
        sa.Column("endpoint_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.String(length=100), nullable=True),
        sa.Column("leika_key", sa.String(length=14), nullable=False),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("kassenzeichen", sa.String(length=32), nullable=False),
        sa.Column("provider_transaction_id", sa.String(length=200), nullable=True),
        sa.Column("checkout_url", sa.String(length=2082), nullable=True),
        sa.Column("payment_method", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("status_detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_checks", sa.Integer(), nullable=False),
        sa.Column("late_provider_status", sa.String(length=10), nullable=True),
        sa.Column("late_reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_transaction")),
        sa.UniqueConstraint("kassenzeichen", name=op.f("uq_payment_transaction_kassenzeichen")),
        sa.UniqueConstraint(
            "originator_id", "endpoint_id", "request_id", name=op.f("uq_payment_transaction_originator_id")
        ),
    )
    with op.batch_alter_table("payment_transaction", schema=None) as batch_op:
        batch_op.create_index("ix_payment_transaction_next_check", ["next_check_at"], unique=False)

    op.create_table(
        "simulated_provider_transaction",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("originator_id", sa.String(length=64), nullable=False),
        sa.Column("endpoint_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("purpose", sa.String(length=27), nullable=False),
        sa.Column("redirect_url", sa.String(length=2082), nullable=False),
        sa.Column("notification_url", sa.String(length=2082), nullable=True),
        sa.Column("payment_method", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("status_detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulated_provider_transaction")),
        sa.UniqueConstraint(
            "originator_id",
            "endpoint_id",
            "request_id",
            name=op.f("uq_simulated_provider_transaction_originator_id"),
        ),
    )
    op.create_table(
        "catalogue_fee_item",
        sa.Column("leika_key", sa.String(length=14), nullable=False),
        sa.Column("item_id", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("tax_rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("booking_data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["leika_key"],
            ["catalogue_service.leika_key"],
            name=op.f("fk_catalogue_fee_item_leika_key_catalogue_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("leika_key", "item_id", name=op.f("pk_catalogue_fee_item")),
    )
    with op.batch_alter_table("catalogue_fee_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalogue_fee_item_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("catalogue_fee_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalogue_fee_item_item_id"))

    op.drop_table("catalogue_fee_item")
    op.drop_table("simulated_provider_transaction")
    with op.batch_alter_table("payment_transaction", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_transaction_next_check")

    op.drop_table("payment_transaction")
    op.drop_table("catalogue_service")
    drop_messaging_tables()
