"""cases keep the authentication tags of the submission they deliver

Revision ID: 5c1e7d2a9b40
Revises: 9a26bca294c0
Create Date: 2026-12-07 14:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e7d2a9b40"
down_revision: str | None = "9a26bca294c0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("authentication_tags", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("cases", "authentication_tags")
