"""sender callbacks

Revision ID: 5c1e9a7f3b20
Revises: 5c1e43095125
Create Date: 2026-12-07 12:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e9a7f3b20"
down_revision: str | None = "5c1e43095125"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sender_callbacks",
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("announced_entries", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_sender_callbacks_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_sender_callbacks")),
    )
    with op.batch_alter_table("sender_callbacks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sender_callbacks_next_attempt_at"), ["next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sender_callbacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sender_callbacks_next_attempt_at"))
    op.drop_table("sender_callbacks")
