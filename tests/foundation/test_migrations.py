"""Each service's migrations build exactly the schema its models declare, on PostgreSQL and
SQLite, and a downgrade to base removes it again."""

import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData, inspect

from ozg_common.db import Database
from ozg_common.migrations import downgrade, upgrade
from ozg_testing import fresh_postgres_database

PACKAGES = [
    "ozg_zufi",
    "ozg_submission",
    "ozg_kop_gateway",
    "ozg_payment",
    "ozg_mailbox",
    "ozg_demo_receiver",
]


def migrations_of(package: str) -> tuple[Path, MetaData]:
    module = importlib.import_module(package)
    models = importlib.import_module(f"{package}.models")
    return Path(str(module.__file__)).parent / "migrations", models.Model.metadata


def schema_drift(connection: Connection, metadata: MetaData) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
@pytest.mark.parametrize("package", PACKAGES)
async def test_migrations_match_models_and_downgrade(package: str, backend: str, tmp_path: Path) -> None:
    location, metadata = migrations_of(package)
    url = (
        await fresh_postgres_database(f"test_migrations_{package}")
        if backend == "postgresql"
        else f"sqlite+aiosqlite:///{tmp_path}/{package}.sqlite3"
    )
    database = Database(url)
    try:
        await upgrade(database, location)
        async with database.engine.connect() as connection:
            assert await connection.run_sync(schema_drift, metadata) == []
            assert set(metadata.tables) <= await connection.run_sync(table_names)

        await downgrade(database, location, "base")
        async with database.engine.connect() as connection:
            assert await connection.run_sync(table_names) == set()
    finally:
        await database.dispose()
