"""destination area and signing key

Revision ID: b8ff6d1398e9
Revises: 3ab8b2646d4c
Create Date: 2026-11-29 09:09:41.921217
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b8ff6d1398e9"
down_revision: str | None = "3ab8b2646d4c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("area_ars", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("signing_key", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.drop_column("signing_key")
        batch_op.drop_column("area_ars")
