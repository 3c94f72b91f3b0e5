"""offer recomputes

Revision ID: 25a9cf168db0
Revises: 4db23fd6292a
Create Date: 2026-11-29 11:41:53.239098
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "25a9cf168db0"
down_revision: str | None = "4db23fd6292a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offer_recomputes",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("services", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_recomputes")),
    )


def downgrade() -> None:
    op.drop_table("offer_recomputes")
