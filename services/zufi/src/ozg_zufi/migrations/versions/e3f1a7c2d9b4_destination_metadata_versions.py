"""destination metadata versions: the FIT-Connect metadata versions a destination takes

Every destination stored before takes the versions the suite writes (2.1.0 and 1.0.0).

Revision ID: e3f1a7c2d9b4
Revises: b5e07d3c9a12
Create Date: 2026-12-07 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e3f1a7c2d9b4"
down_revision: str | None = "b5e07d3c9a12"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("metadata_versions", sa.JSON(), nullable=True))
    op.execute("""UPDATE destinations SET metadata_versions = '["2.1.0", "1.0.0"]'""")
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.alter_column("metadata_versions", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.drop_column("metadata_versions")
