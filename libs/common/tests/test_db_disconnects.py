"""Pooled PostgreSQL connections: the ones the server closed are replaced at checkout, without a
ping; a request that finds none free in time, or loses the database, is told to retry."""

import asyncio

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ozg_common.db import Database, SessionDep
from ozg_common.problems import install_problem_handlers
from ozg_testing import TcpLink, fresh_postgres_database


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


async def test_a_request_that_loses_the_database_is_answered_503_and_leaves_nothing_stored() -> None:
    url = await fresh_postgres_database("test_common_db_outage")
    direct = Database(url)
    async with direct.transaction() as session:
        await session.execute(text("CREATE TABLE notes (name text PRIMARY KEY)"))
    server = make_url(url)
    link = TcpLink(server.host or "127.0.0.1", server.port or 5432)
    await link.connect()
    linked = server.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False)
    database = Database(linked, pool_size=2)
    app = FastAPI()
    app.state.database = database
    install_problem_handlers(app)
    written, go_on = asyncio.Event(), asyncio.Event()

    @app.post("/notes/{name}")
    async def add(name: str, session: SessionDep) -> dict[str, str]:
        await session.execute(text("INSERT INTO notes VALUES (:name)"), {"name": name})
        written.set()
        await go_on.wait()
        await session.execute(text("SELECT count(*) FROM notes"))
        return {"name": name}

    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            half = asyncio.create_task(http.post("/notes/half"))
            await written.wait()
            await link.cut()
            go_on.set()
            cut_off = await half
            refused = await http.post("/notes/refused")
            await link.connect()
            back = await http.post("/notes/back")
    finally:
        await link.cut()
        await database.dispose()
    try:
        async with direct.transaction() as session:
            stored = set((await session.scalars(text("SELECT name FROM notes"))).all())
    finally:
        await direct.dispose()

    for answer in (cut_off, refused):
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["retry-after"] == "5"
        assert answer.json()["type"].endswith("/service-unavailable")
    assert back.status_code == 200
    assert stored == {"back"}
