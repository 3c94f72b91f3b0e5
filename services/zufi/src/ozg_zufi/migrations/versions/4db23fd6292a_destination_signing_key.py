"""destination signing key

Revision ID: 4db23fd6292a
Revises: d179ce9fc3f0
Create Date: 2026-11-29 09:08:05.071945
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4db23fd6292a"
down_revision: str | None = "d179ce9fc3f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signing_key", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.drop_column("signing_key")
