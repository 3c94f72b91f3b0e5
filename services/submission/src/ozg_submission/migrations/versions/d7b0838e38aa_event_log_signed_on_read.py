"""event log signed on read

Revision ID: d7b0838e38aa
Revises: b8ff6d1398e9
Create Date: 2026-11-29 11:37:00.208015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d7b0838e38aa"
down_revision: str | None = "b8ff6d1398e9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jti", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
        batch_op.alter_column("token", existing_type=sa.TEXT(), nullable=True)


def downgrade() -> None:
    # Entries not yet signed cannot be signed here (the key is the service's), nor dropped (the log
    # is an audit trail): the release before this one cannot hold them.
    unsigned = op.get_bind().scalar(sa.text("SELECT count(*) FROM event_log WHERE token IS NULL"))
    if unsigned:
        raise RuntimeError(
            f"{unsigned} event-log entries are not signed yet; the previous schema requires a token."
        )
    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.alter_column("token", existing_type=sa.TEXT(), nullable=False)
        batch_op.drop_column("details")
        batch_op.drop_column("jti")
