"""Bulk writes for PostgreSQL and SQLite alike (imports and the demo seed write thousands of rows)."""

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_zufi.models import Model


async def upsert(
    session: AsyncSession,
    model: type[Model],
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
) -> None:
    """INSERT `rows`, updating every other column where the `key` columns already exist."""
    if not rows:
        return
    table = cast(Table, model.__table__)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    columns = [name for name in rows[0] if name not in key]
    statement = (
        insert.on_conflict_do_update(
            index_elements=list(key), set_={name: insert.excluded[name] for name in columns}
        )
        if columns
        else insert.on_conflict_do_nothing(index_elements=list(key))
    )
    await session.execute(statement, list(rows))
