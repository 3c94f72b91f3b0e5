"""Pooled PostgreSQL connections the server closed are replaced at checkout, without a ping."""

import asyncio

import asyncpg
from sqlalchemy import text

from ozg_common.db import Database
from ozg_common.testing import fresh_postgres_database


async def _backend_pids(database: Database) -> set[int]:
    pids: set[int] = set()
    sessions = [database.sessionmaker() for _ in range(3)]
    try:
        for session in sessions:
            pids.add(int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()))
    finally:
        for session in sessions:
            await session.close()
    return pids


async def test_connections_the_server_terminated_are_replaced_not_handed_out() -> None:
    url = await fresh_postgres_database("test_common_db")
    database = Database(url, pool_size=3)
    try:
        pooled = await _backend_pids(database)
        assert len(pooled) == 3
        admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            # What a server restart or an administrator does to idle connections.
            await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid", list(pooled))
        finally:
            await admin.close()
        await asyncio.sleep(0.3)  # the pooled connections read the server's goodbye

        for _ in range(3):
            async with database.transaction() as session:
                assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
        assert not pooled & await _backend_pids(database)
    finally:
        await database.dispose()
