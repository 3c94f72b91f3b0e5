"""Writing rows of several tables in as few statements as the database allows: an accepted
application, a new or a submitted FIT-Connect submission with its event-log entries and events
(a submitted one also updating its own row).

On PostgreSQL all of them go in one INSERT whose UPDATE and other INSERTs are data-modifying CTEs,
compiled once per shape (tables, columns, row counts) and executed without SQLAlchemy's
per-statement compilation; such a statement is atomic by itself and needs no transaction around
it. Elsewhere (SQLite) one statement per table, inside the caller's transaction.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, class_mapper

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
