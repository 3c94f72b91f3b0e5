"""operator listing indexes

Revision ID: f96303671530
Revises: 99dfa72cdcac
Create Date: 2026-11-29 05:45:09.545012
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f96303671530"
down_revision: str | None = "99dfa72cdcac"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payment_transaction", schema=None) as batch_op:
        batch_op.create_index("ix_payment_transaction_case_id", ["case_id"], unique=False)
        batch_op.create_index("ix_payment_transaction_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payment_transaction", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_transaction_created_at")
        batch_op.drop_index("ix_payment_transaction_case_id")
