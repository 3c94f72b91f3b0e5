"""route texts and links: the service texts and the authority links Routing API 2.0.0 answers

Addresses and contact persons stored before take the API's names: `postalCode` becomes `zip`,
`telephone` becomes `tel`.

Revision ID: b5e07d3c9a12
Revises: 7c2e9a41d5b0
Create Date: 2026-12-07 06:05:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "b5e07d3c9a12"
down_revision: str | None = "7c2e9a41d5b0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERVICE_TEXTS = ("required_documents", "legal_basis", "deadline", "processing_duration")
AUTHORITY_LINKS = ("logo_url", "privacy_policy_url", "imprint_url", "accessibility_url", "contact_form_url")


def _renamed(record: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    return {new if key == old else key: value for key, value in record.items()}


def upgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        for name in SERVICE_TEXTS:
            batch_op.add_column(sa.Column(name, sa.JSON(none_as_null=True), nullable=True))
    with op.batch_alter_table("authorities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("postal_address", sa.JSON(), nullable=True))
        for name in AUTHORITY_LINKS:
            batch_op.add_column(sa.Column(name, sa.String(length=1000), nullable=True))
    authorities = sa.table(
        "authorities",
        sa.column("id", sa.Uuid()),
        sa.column("address", sa.JSON()),
        sa.column("contacts", sa.JSON()),
        sa.column("postal_address", sa.JSON()),
    )
    connection = op.get_bind()
    connection.execute(sa.update(authorities).values(postal_address={}))
    rows = connection.execute(sa.select(authorities.c.id, authorities.c.address, authorities.c.contacts))
    changed = []
    for authority_id, address, contacts in rows:
        new_address = _renamed(address or {}, "postalCode", "zip")
        new_contacts = [_renamed(person, "telephone", "tel") for person in contacts or []]
        if new_address != address or new_contacts != contacts:
            changed.append({"key": authority_id, "address": new_address, "contacts": new_contacts})
    if changed:
        connection.execute(
            sa.update(authorities)
            .where(authorities.c.id == sa.bindparam("key"))
            .values(address=sa.bindparam("address"), contacts=sa.bindparam("contacts")),
            changed,
        )
    with op.batch_alter_table("authorities", schema=None) as batch_op:
        batch_op.alter_column("postal_address", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("authorities", schema=None) as batch_op:
        for name in ("postal_address", *AUTHORITY_LINKS):
            batch_op.drop_column(name)
    with op.batch_alter_table("services", schema=None) as batch_op:
        for name in SERVICE_TEXTS:
            batch_op.drop_column(name)
