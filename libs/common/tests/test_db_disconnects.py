"""Pooled PostgreSQL connections: the ones the server closed are replaced at checkout, without a
ping; a request that finds none free in time is told to retry."""

import asyncio

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy import text

from ozg_common.db import Database, SessionDep
from ozg_common.problems import install_problem_handlers
from ozg_testing import fresh_postgres_database


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


async def test_a_request_that_finds_no_free_connection_is_answered_503() -> None:
    database = Database(await fresh_postgres_database("test_common_db_busy"), pool_size=1, pool_timeout=0.2)
    app = FastAPI()
    app.state.database = database
    install_problem_handlers(app)
    holding, release = asyncio.Event(), asyncio.Event()

    @app.get("/hold")
    async def hold(session: SessionDep) -> dict[str, int]:
        value = (await session.execute(text("SELECT 1"))).scalar_one()
        holding.set()
        await release.wait()
        return {"value": value}

    @app.get("/quick")
    async def quick(session: SessionDep) -> dict[str, int]:
        return {"value": (await session.execute(text("SELECT 2"))).scalar_one()}

    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            held = asyncio.create_task(http.get("/hold"))
            await holding.wait()
            busy = await http.get("/quick")
            release.set()
            assert (await held).status_code == 200
            assert (await http.get("/quick")).json() == {"value": 2}
    finally:
        await database.dispose()
    assert busy.status_code == 503
    assert busy.headers["content-type"] == "application/problem+json"
    assert busy.headers["retry-after"] == "1"
