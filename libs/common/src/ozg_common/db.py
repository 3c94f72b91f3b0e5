"""One async database per service: PostgreSQL (asyncpg) in production, SQLite for `make run`."""

import asyncio
import logging
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, Dialect, MetaData, TypeDecorator, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """A service's own metadata, with constraint names Alembic can rely on."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class _SqliteUtc(TypeDecorator[datetime]):
    """SQLite has no time zones: a moment is written as UTC and read back as UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None and value.tzinfo else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def utc_datetime() -> DateTime:
    """The column type of every moment: `timestamptz` on PostgreSQL, and zone-aware from SQLite too
    (plain `DateTime(timezone=True)` comes back from SQLite without an offset)."""
    return DateTime(timezone=True).with_variant(_SqliteUtc(), "sqlite")


def is_utc_datetime(type_: Any) -> bool:
    """Is `type_` the column type `utc_datetime()` returns?"""
    variants = getattr(type_, "_variant_mapping", {})
    return isinstance(type_, DateTime) and isinstance(variants.get("sqlite"), _SqliteUtc)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the outbox relay read while a request writes; busy_timeout queues writers.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


logger = logging.getLogger(__name__)

POOL_RECYCLE_SECONDS = 1800
"""Pooled connections are replaced after half an hour, before idle timeouts of the server or a
firewall in between can cut them."""


def _closed_by_server(_dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    """Refuse a pooled connection whose socket is already closed (server restart, terminated
    backend, idle timeout): the pool then opens a fresh one. A local check, no round trip."""
    driver = record.driver_connection
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def _connect(dialect: Dialect, _record: ConnectionPoolEntry, cargs: Any, cparams: Any) -> Any:
    """Open a connection, a failure to reach the server raised as the driver's OperationalError.

    asyncpg raises OSError (refused, reset, unknown host, timed out) when it cannot connect, and
    SQLAlchemy passes that on unwrapped: as OperationalError it is told apart from any other error of
    a request, like every other loss of the database (`database_unreachable`)."""
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as exc:
        raise dialect.loaded_dbapi.OperationalError(str(exc) or type(exc).__name__, exc) from exc


UNREACHABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
"""SQLSTATEs (prefixes) of a server out of reach: connection exceptions, administrator or crash
shutdown, a server still starting up, no connection slot free."""


def database_unreachable(exc: BaseException) -> bool:
    """Did `exc` come from the database being out of reach (down, restarting, the connection cut),
    rather than from what the statement asked?"""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(UNREACHABLE_SQLSTATES)


def lock_key(name: str) -> int:
    """The PostgreSQL advisory lock key `Database.exclusively(name)` takes."""
    return zlib.crc32(name.encode())


class Database:
    """The engine and session factory of one service's database."""

    def __init__(self, url: str, *, pool_size: int = 20, pool_timeout: float = 10.0) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        options: dict[str, Any] = {}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        else:
            # No pool_pre_ping: on asyncpg it costs three round trips (BEGIN, `;`, ROLLBACK) per
            # checkout. A connection the server closed is noticed locally at checkout instead
            # (`_closed_by_server`); one that breaks unnoticed fails its request, which rolls back,
            # and SQLAlchemy then replaces every pooled connection older than the failure.
            # A fixed pool: SQLAlchemy closes an overflow connection after each use, so under load
            # every request beyond the pool would pay a backend fork and a SCRAM handshake;
            # waiting for a pooled one is cheaper.
            # A request that found no connection within `pool_timeout` is answered 503 (problems.py).
            options.update(
                pool_size=pool_size,
                max_overflow=0,
                pool_timeout=pool_timeout,
                pool_recycle=POOL_RECYCLE_SECONDS,
            )
        self.engine: AsyncEngine = create_async_engine(url, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            event.listen(self.engine.sync_engine.pool, "checkout", _closed_by_server)
            event.listen(self.engine.sync_engine, "do_connect", _connect)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._after_commit: list[Callable[[], None]] = []

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` after every successful commit of a session of this database."""
        self._after_commit.append(callback)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block ends and rolls back when it raises."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
        for callback in self._after_commit:
            callback()

    @asynccontextmanager
    async def exclusively(
        self, name: str, *, waiting: Callable[[bool], None] | None = None
    ) -> AsyncIterator[None]:
        """Run the block while no other process of this service (worker or replica) runs a block of
        the same `name`: a PostgreSQL advisory lock (`lock_key(name)`) held on a connection of its
        own, released at the end or by the server when the process dies. SQLite serves one process,
        so there nothing needs to wait. `waiting(True)` is called when the lock is taken elsewhere,
        `waiting(False)` once it is ours."""
        if self.is_sqlite:
            yield
            return
        key = lock_key(name)
        async with self.engine.connect() as connection:
            waited, attempt = 0.0, text("SELECT pg_try_advisory_lock(:k)")
            try:
                while not (await connection.execute(attempt, {"k": key})).scalar():
                    if waited == 0 and waiting is not None:
                        waiting(True)
                    if waited % 30 == 0:
                        # Say why a replica is not ready yet: it waits for another one's `name`.
                        logger.info("waiting for another process of this service", extra={"for": name})
                    await asyncio.sleep(0.5)
                    waited += 0.5
            finally:
                if waited and waiting is not None:
                    waiting(False)
            try:
                yield
            finally:
                await connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async with database.transaction() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
"""The request's session: committed before the answer is sent, rolled back on any error."""
