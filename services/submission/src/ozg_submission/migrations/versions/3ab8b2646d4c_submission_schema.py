"""submission schema

Revision ID: 3ab8b2646d4c
Revises:
Create Date: 2026-11-29 05:36:03.143987
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ozg_common.migrations import create_messaging_tables, drop_messaging_tables

revision: str = "3ab8b2646d4c"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "api_clients",
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=400), nullable=False),
        sa.Column("previous_secret_hash", sa.String(length=400), nullable=True),
        sa.Column("previous_valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_api_clients")),
    )
    op.create_table(
        "destinations",
        sa.Column("destination_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("authority_id", sa.String(length=200), nullable=False),
        sa.Column("encryption_kid", sa.String(length=200), nullable=False),
        sa.Column("encryption_key", sa.JSON(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("reply_channels", sa.JSON(), nullable=False),
        sa.Column("zustellkanal", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("destination_id", name=op.f("pk_destinations")),
    )
    op.create_table(
        "event_log",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_log")),
    )
    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_log_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_log_submission_id"), ["submission_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("transaction_id", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("payment_information", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_case_id"), ["case_id"], unique=False)

    op.create_table(
        "services",
        sa.Column("leika_key", sa.String(length=14), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("payment_required", sa.Boolean(), nullable=False),
        sa.Column("fees", sa.JSON(), nullable=False),
        sa.Column("form_schema", sa.JSON(), nullable=True),
        sa.Column("xml_schema_namespace", sa.String(length=500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("leika_key", name=op.f("pk_services")),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("destination_id", sa.String(length=200), nullable=False),
        sa.Column("sender_client_id", sa.String(length=200), nullable=False),
        sa.Column("leika_key", sa.String(length=14), nullable=False),
        sa.Column("service_name", sa.String(length=1024), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("announced_attachments", sa.JSON(), nullable=False),
        sa.Column("metadata_key", sa.String(length=300), nullable=True),
        sa.Column("metadata_sha512", sa.String(length=128), nullable=True),
        sa.Column("metadata_size", sa.BigInteger(), nullable=True),
        sa.Column("data_key", sa.String(length=300), nullable=True),
        sa.Column("data_sha512", sa.String(length=128), nullable=True),
        sa.Column("data_size", sa.BigInteger(), nullable=True),
        sa.Column("pending_metadata", sa.JSON(), nullable=True),
        sa.Column("payment_required", sa.Boolean(), nullable=False),
        sa.Column("payment_transaction_id", sa.String(length=200), nullable=True),
        sa.Column("payment_status", sa.String(length=20), nullable=True),
        sa.Column("mailbox_uuid", sa.String(length=64), nullable=True),
        sa.Column("delivery_error", sa.Text(), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("picked_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_submissions_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_submissions_destination_id"), ["destination_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_submissions_payment_transaction_id"), ["payment_transaction_id"], unique=False
        )
        batch_op.create_index("ix_submissions_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "attachments",
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("attachment_id", sa.Uuid(), nullable=False),
        sa.Column("blob_key", sa.String(length=300), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha512", sa.String(length=128), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_attachments_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", "attachment_id", name=op.f("pk_attachments")),
    )


def downgrade() -> None:
    op.drop_table("attachments")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_status_created")
        batch_op.drop_index(batch_op.f("ix_submissions_payment_transaction_id"))
        batch_op.drop_index(batch_op.f("ix_submissions_destination_id"))
        batch_op.drop_index(batch_op.f("ix_submissions_case_id"))

    op.drop_table("submissions")
    op.drop_table("services")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_case_id"))

    op.drop_table("payments")
    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_log_submission_id"))
        batch_op.drop_index(batch_op.f("ix_event_log_case_id"))

    op.drop_table("event_log")
    op.drop_table("destinations")
    op.drop_table("api_clients")
    drop_messaging_tables()
