"""The outbox and inbox tables every service keeps in its own database."""

import functools
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from ozg_common.db import utc_datetime

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_Id = BigInteger().with_variant(Integer(), "sqlite")


def add_messaging_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Declare `outbox` and `inbox` in a service's metadata, so its migrations create them."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", _Id, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("headers", JSON, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", utc_datetime(), nullable=False),
        Column("published_at", utc_datetime(), nullable=True),
        Index("ix_outbox_unpublished", "published_at", "id"),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("processed_at", utc_datetime(), nullable=False),
        Column("outcome", String(20), nullable=False),
        Column("error", Text, nullable=True),
    )
    return outbox, inbox


@functools.cache
def _skipping_existing(dialect: str, table: Table, returning: str | None = None) -> Any | None:
    """An INSERT that skips rows whose primary/unique key exists, where the dialect has one.

    Built once per table: a reused statement keeps its cache key and compiled form, where one
    built per call (`.values(...)`) computes both again; the rows go in as parameters."""
    statement: Any
    if dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing()
    else:
        return None
    return statement.returning(table.c[returning]) if returning else statement


async def insert_ignoring_duplicates(session: AsyncSession, table: Table, values: dict[str, Any]) -> bool:
    """INSERT unless the primary/unique key exists; True when a row was written."""
    statement = _skipping_existing(session.get_bind().dialect.name, table)
    result = await session.execute(insert(table) if statement is None else statement, values)
    return bool(getattr(result, "rowcount", 0))


async def insert_new_rows(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], returning: str
) -> set[Any]:
    """INSERT many rows in one statement, skipping those whose primary/unique key exists (also
    repeats within `rows`); the `returning` column's values of the rows written."""
    if not rows:
        return set()
    statement = _skipping_existing(session.get_bind().dialect.name, table, returning)
    if statement is None:
        return {row[returning] for row in rows if await insert_ignoring_duplicates(session, table, row)}
    result = await session.execute(statement, list(rows))
    return set(result.scalars())


@functools.cache
def _insert_unnested(table: Table, columns: tuple[str, ...]) -> Insert:
    """An INSERT of any number of rows as one statement with one text (PostgreSQL): each column
    goes in as an array, and the rows come out of `unnest` in their order.

    An executemany runs the INSERT once per row (asyncpg pipelines them, but PostgreSQL executes and
    accounts each); a multi-row VALUES has a text per row count, each prepared and planned anew.
    JSON goes in as text (an array of JSON lists would be taken for a nested array)."""
    is_json = {key: isinstance(table.c[key].type, JSON) for key in columns}
    arrays = [
        bindparam(key, type_=postgresql.ARRAY(Text() if is_json[key] else table.c[key].type))
        for key in columns
    ]
    rows = (
        func.unnest(*arrays).table_valued(*columns, with_ordinality="ordinality").render_derived(name="row")
    )
    values = [sql_cast(rows.c[key], JSON) if is_json[key] else rows.c[key] for key in columns]
    return insert(table).from_select(columns, select(*values).order_by(rows.c.ordinality))


async def insert_many(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (all with the same keys) in their order with one statement; an executemany on
    SQLite, which runs in-process."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        await session.execute(insert(table), list(rows))
        return
    columns = tuple(rows[0])
    arrays: dict[str, list[Any]] = {}
    for key in columns:
        if isinstance(table.c[key].type, JSON):
            arrays[key] = [json.dumps(row[key]) for row in rows]
        else:
            arrays[key] = [row[key] for row in rows]
    await session.execute(_insert_unnested(table, columns), arrays)
