"""Alembic per service: migrations run on start-up, one replica at a time."""

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

from alembic import command, op
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine

from ozg_common.db import Database, new_metadata
from ozg_common.messaging import add_messaging_tables

# Any constant works; it only has to be the same in every replica of one service.
_MIGRATION_LOCK = 7_014_200


def _config(script_location: Path, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(database: Database, script_location: Path) -> None:
    """Bring the database to the newest revision."""

    def run(connection: Connection) -> None:
        if not database.is_sqlite:
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        command.upgrade(_config(script_location, connection), "head")

    async with database.engine.begin() as connection:
        await connection.run_sync(run)


async def downgrade(database: Database, script_location: Path, revision: str) -> None:
    """Step the database back to `revision` (`base`: nothing), for a rollback of a release."""

    def run(connection: Connection) -> None:
        command.downgrade(_config(script_location, connection), revision)

    async with database.engine.begin() as connection:
        await connection.run_sync(run)


def create_messaging_tables() -> None:
    """Create `outbox` and `inbox` as `add_messaging_tables` declares them; for a service's first revision."""
    metadata = new_metadata()
    add_messaging_tables(metadata)
    metadata.create_all(op.get_bind())


def drop_messaging_tables() -> None:
    """Undo `create_messaging_tables`."""
    op.drop_table("inbox")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox")


def run_env(context: Any, metadata: MetaData) -> None:
    """The body of every service's `migrations/env.py`."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("migrations run through ozg_common.migrations, not the alembic CLI")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def make_revision(script_location: Path, message: str) -> None:
    """Autogenerate a revision from the models against a scratch database at head."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_async_engine(f"sqlite+aiosqlite:///{scratch}/scratch.sqlite3")

        def run(connection: Connection) -> None:
            config = _config(script_location, connection)
            command.upgrade(config, "head")
            command.revision(config, message=message, autogenerate=True)

        async with engine.begin() as connection:
            await connection.run_sync(run)
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description="Autogenerate an Alembic revision for a service.")
    parser.add_argument("script_location", type=Path, help="the service's migrations folder")
    parser.add_argument("-m", "--message", required=True)
    args = parser.parse_args()
    asyncio.run(make_revision(args.script_location, args.message))


if __name__ == "__main__":
    main()
