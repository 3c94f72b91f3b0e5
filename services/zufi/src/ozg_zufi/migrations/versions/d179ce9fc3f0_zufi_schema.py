"""zufi schema

Revision ID: d179ce9fc3f0
Revises:
Create Date: 2026-11-29 05:23:02.991851
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ozg_common.migrations import create_messaging_tables, drop_messaging_tables

revision: str = "d179ce9fc3f0"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "areas",
        sa.Column("ars", sa.String(length=12), nullable=False),
        sa.Column("ags", sa.String(length=8), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("kind_code", sa.SmallInteger(), nullable=True),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("parent_ars", sa.String(length=12), nullable=True),
        sa.Column("postal_code", sa.String(length=5), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("ars", name=op.f("pk_areas")),
    )
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_areas_ags"), ["ags"], unique=False)
        batch_op.create_index(batch_op.f("ix_areas_parent_ars"), ["parent_ars"], unique=False)

    op.create_table(
        "services",
        sa.Column("leika_key", sa.String(length=14), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("payment_required", sa.Boolean(), nullable=False),
        sa.Column("fees", sa.JSON(), nullable=False),
        sa.Column("form_schema", sa.JSON(), nullable=True),
        sa.Column("xml_schema_namespace", sa.String(length=500), nullable=True),
        sa.Column("xml_schema_location", sa.String(length=500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("leika_key", name=op.f("pk_services")),
    )
    op.create_table(
        "authorities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("short_name", sa.String(length=100), nullable=True),
        sa.Column("area_ars", sa.String(length=12), nullable=False),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("generated", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["area_ars"], ["areas.ars"], name=op.f("fk_authorities_area_ars_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorities")),
    )
    with op.batch_alter_table("authorities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_authorities_area_ars"), ["area_ars"], unique=False)

    op.create_table(
        "postal_codes",
        sa.Column("postal_code", sa.String(length=5), nullable=False),
        sa.Column("ars", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(["ars"], ["areas.ars"], name=op.f("fk_postal_codes_ars_areas")),
        sa.PrimaryKeyConstraint("postal_code", "ars", name=op.f("pk_postal_codes")),
    )
    with op.batch_alter_table("postal_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postal_codes_ars"), ["ars"], unique=False)

    op.create_table(
        "destinations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("authority_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("channel_type", sa.String(length=20), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("signature_scheme", sa.String(length=30), nullable=False),
        sa.Column("encryption_kid", sa.String(length=200), nullable=False),
        sa.Column("encryption_key", sa.JSON(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("reply_channels", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"], ["authorities.id"], name=op.f("fk_destinations_authority_id_authorities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destinations")),
        sa.UniqueConstraint("authority_id", name=op.f("uq_destinations_authority_id")),
    )
    op.create_table(
        "responsibilities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("leika_key", sa.String(length=14), nullable=False),
        sa.Column("area_ars", sa.String(length=12), nullable=False),
        sa.Column("authority_id", sa.Uuid(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["area_ars"], ["areas.ars"], name=op.f("fk_responsibilities_area_ars_areas")),
        sa.ForeignKeyConstraint(
            ["authority_id"], ["authorities.id"], name=op.f("fk_responsibilities_authority_id_authorities")
        ),
        sa.ForeignKeyConstraint(
            ["leika_key"], ["services.leika_key"], name=op.f("fk_responsibilities_leika_key_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responsibilities")),
        sa.UniqueConstraint("leika_key", "area_ars", name=op.f("uq_responsibilities_leika_key")),
    )
    with op.batch_alter_table("responsibilities", schema=None) as batch_op:
        batch_op.create_index("ix_responsibilities_authority", ["authority_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("responsibilities", schema=None) as batch_op:
        batch_op.drop_index("ix_responsibilities_authority")

    op.drop_table("responsibilities")
    op.drop_table("destinations")
    with op.batch_alter_table("postal_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postal_codes_ars"))

    op.drop_table("postal_codes")
    with op.batch_alter_table("authorities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authorities_area_ars"))

    op.drop_table("authorities")
    op.drop_table("services")
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_areas_parent_ars"))
        batch_op.drop_index(batch_op.f("ix_areas_ags"))

    op.drop_table("areas")
    drop_messaging_tables()
