"""authentication tags and unique jti

Revision ID: 5c1e43095125
Revises: f2c8d4a6b1e7
Create Date: 2026-12-07 12:21:02.359388
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e43095125"
down_revision: str | None = "f2c8d4a6b1e7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("authentication_tag", sa.String(length=64), nullable=True))

    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_event_log_jti"), ["jti"])

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("authentication_tags", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("authentication_tags")

    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_event_log_jti"), type_="unique")

    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_column("authentication_tag")
