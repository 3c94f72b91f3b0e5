"""Writing many rows in few statements, on PostgreSQL and SQLite alike: the inbox and outbox,
imports, and the rows of an accepted application.

- `insert_ignoring_duplicates` / `insert_new_rows`: INSERT that skips rows whose key exists.
- `insert_many`: the rows of one table in one statement (PostgreSQL: one text for any row count).
- `upsert`: INSERT, updating the other columns where the key exists.
- `insert_rows`: the rows of several tables (and an update of one row) in one statement. On
  PostgreSQL its UPDATE and other INSERTs are data-modifying CTEs, compiled once per shape (tables,
  columns, row counts) and executed without SQLAlchemy's per-statement compilation; such a
  statement is atomic by itself and needs no transaction around it (`single_write`). Elsewhere
  (SQLite) one statement per table, inside the caller's transaction.
"""

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ColumnElement, Table, Text, bindparam, func, insert, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, class_mapper
from sqlalchemy.sql.dml import Insert


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


Rows = Sequence[Mapping[str, Any]]
_UpdateShape = tuple[Table, tuple[str, ...], tuple[str, ...]] | None
Shape = tuple[_UpdateShape, tuple[tuple[Table, tuple[str, ...], int], ...]]
"""The update (its table, key and value columns), then each batch of inserts (table, columns, rows).
The update's parameters count as the batch after the inserts: row 0 its key, row 1 its values."""


@dataclass(frozen=True, slots=True)
class RowUpdate:
    """New values for the one row of `table` whose columns equal `key`."""

    table: Table
    key: Mapping[str, Any]
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class _Parameter:
    """Where a positional parameter's value comes from, and how the driver wants it."""

    batch: int
    row: int
    column: str
    process: Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    parameters: tuple[_Parameter, ...]


_compiled: dict[tuple[str, Shape], _Compiled] = {}
_COMPILED_KEPT = 256


def table_of(model: type[DeclarativeBase]) -> Table:
    """The table a model is mapped to."""
    return model.metadata.tables[model.__tablename__]


_Column = tuple[str, str, Any]
_columns_of: dict[type, tuple[_Column, ...]] = {}


def _scalar_default(column: ColumnElement[Any]) -> Any:
    default = getattr(column, "default", None)
    return default.arg if default is not None and default.is_scalar else None


def _insert_columns(model: type) -> tuple[_Column, ...]:
    """A model's columns as (attribute, column, scalar default or None), looked up once per model."""
    columns = _columns_of.get(model)
    if columns is None:
        columns = _columns_of[model] = tuple(
            (prop.key, column.key, _scalar_default(column))
            for prop in class_mapper(model).column_attrs
            for column in prop.columns[:1]
        )
    return columns


def values_of(instance: DeclarativeBase) -> dict[str, Any]:
    """A new model instance as the column values of its INSERT (what the unit of work would write)."""
    return row_of(type(instance), instance.__dict__)


def row_of(model: type[DeclarativeBase], given: Mapping[str, Any]) -> dict[str, Any]:
    """The column values of a new row of `model` whose attributes are `given` (the rest their
    defaults), as `values_of` an instance, without building one."""
    return {column: given.get(attribute, default) for attribute, column, default in _insert_columns(model)}


def _placeholders(table: Table, columns: tuple[str, ...], prefix: str) -> dict[str, Any]:
    return {column: bindparam(f"{prefix}_{column}", type_=table.c[column].type) for column in columns}


def _statements(shape: Shape) -> list[Any]:
    updating, inserts = shape
    statements: list[Any] = []
    if updating is not None:
        table, key, columns = updating
        where = _placeholders(table, key, f"p{len(inserts)}_0")
        statements.append(
            update(table)
            .where(*(table.c[column] == value for column, value in where.items()))
            .values(_placeholders(table, columns, f"p{len(inserts)}_1"))
        )
    for batch, (table, columns, count) in enumerate(inserts):
        statements.append(
            table.insert().values([_placeholders(table, columns, f"p{batch}_{row}") for row in range(count)])
        )
    return statements


def _compile(dialect: Dialect, shape: Shape) -> _Compiled:
    *first, last = _statements(shape)
    compiled = last.add_cte(*(write.cte(f"w{n}") for n, write in enumerate(first))).compile(dialect=dialect)
    updating, inserts = shape
    tables = [table for table, _, _ in inserts] + ([updating[0]] if updating else [])
    parameters = []
    for name in compiled.positiontup or ():
        if not name.startswith("p"):
            raise ValueError(f"{name}: name every column of the rows, defaults included")
        batch, row, column = name[1:].split("_", 2)
        table = tables[int(batch)]
        type_ = table.c[column].type.dialect_impl(dialect)
        parameters.append(_Parameter(int(batch), int(row), column, type_.bind_processor(dialect)))
    return _Compiled(str(compiled), tuple(parameters))


def _in_one_statement(dialect: Dialect) -> bool:
    return dialect.name == "postgresql" and dialect.positional


async def single_write(session: AsyncSession) -> None:
    """Promise that the session's only write will be one `insert_rows` call: where that is one
    statement, atomic by itself, the session then runs without a transaction and saves the BEGIN
    and COMMIT round trips. Call it before the session's first statement."""
    if _in_one_statement(session.get_bind().dialect):
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


async def insert_rows(
    session: AsyncSession, batches: Sequence[tuple[Table, Rows]], *, updating: RowUpdate | None = None
) -> None:
    """Insert each batch's rows (every row of a batch naming the same columns), parents first;
    `updating` a row first, in the same statement where there is one."""
    batches = [(table, rows) for table, rows in batches if rows]
    if not batches and updating is None:
        return
    connection = await session.connection()
    dialect = connection.dialect
    if not _in_one_statement(dialect):
        if updating is not None:
            table = updating.table
            where = (table.c[column] == value for column, value in updating.key.items())
            await session.execute(update(table).where(*where).values(dict(updating.values)))
        for table, rows in batches:
            await session.execute(table.insert(), list(rows))
        return
    shape: Shape = (
        (updating.table, tuple(updating.key), tuple(updating.values)) if updating else None,
        tuple((table, tuple(rows[0]), len(rows)) for table, rows in batches),
    )
    key = (dialect.name, shape)
    compiled = _compiled.get(key)
    if compiled is None:
        if len(_compiled) >= _COMPILED_KEPT:
            _compiled.clear()
        compiled = _compiled[key] = _compile(dialect, shape)
    sources = [rows for _, rows in batches]
    if updating is not None:
        sources.append((updating.key, updating.values))
    values = []
    for parameter in compiled.parameters:
        value = sources[parameter.batch][parameter.row][parameter.column]
        values.append(parameter.process(value) if parameter.process else value)
    await connection.exec_driver_sql(compiled.sql, tuple(values))


async def upsert(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
) -> None:
    """INSERT `rows`, updating every other column where the `key` columns already exist."""
    if not rows:
        return
    table = table_of(model)
    dialect = session.get_bind().dialect.name
    statement = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    columns = [name for name in rows[0] if name not in key]
    write = (
        statement.on_conflict_do_update(
            index_elements=list(key), set_={name: statement.excluded[name] for name in columns}
        )
        if columns
        else statement.on_conflict_do_nothing(index_elements=list(key))
    )
    await session.execute(write, list(rows))
