"""destination declared services

Revision ID: 7c2e9a41d5b0
Revises: 25a9cf168db0
Create Date: 2026-12-06 23:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c2e9a41d5b0"
down_revision: str | None = "25a9cf168db0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("declared_services", sa.JSON(), nullable=True))
    # Which of an administered destination's services routing added can no longer be told: all of
    # them count as declared, as they did. A generated destination declares nothing.
    op.execute(
        "UPDATE destinations SET declared_services = services"
        " WHERE authority_id IN (SELECT id FROM authorities WHERE NOT generated)"
    )
    op.execute("UPDATE destinations SET declared_services = '[]' WHERE declared_services IS NULL")
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.alter_column("declared_services", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.drop_column("declared_services")
