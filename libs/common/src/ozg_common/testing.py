"""Test kit shared by every service's tests: real PostgreSQL databases, real Kafka, real HTTP.

Nothing here fakes infrastructure: a test that needs Kafka fails when Kafka is not running.
"""

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from ozg_common.auth import TokenIssuer, TokenVerifier
from ozg_common.keys import load_or_create_rsa_key
from ozg_common.settings import PROJECT_ROOT

TEST_ISSUER = "http://127.0.0.1:8002"


def postgres_server_url() -> str:
    return os.environ.get("OZG_TEST_POSTGRES_URL", "postgresql+asyncpg://ozg:ozg@127.0.0.1:5432")


def kafka_bootstrap() -> str:
    return os.environ.get("OZG_TEST_KAFKA", "127.0.0.1:9092")


async def fresh_postgres_database(name: str) -> str:
    """Drop and create database `name`; returns its SQLAlchemy URL."""
    server = make_url(postgres_server_url())
    connection = await asyncpg.connect(
        host=server.host,
        port=server.port or 5432,
        user=server.username,
        password=server.password,
        database="postgres",
    )
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return server.set(database=name).render_as_string(hide_password=False)


def unique_topic_prefix() -> str:
    """Topics of one test run, so runs and tests do not read each other's events."""
    return f"t{uuid.uuid4().hex[:10]}."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serving(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """Serve `app` over real HTTP on loopback for the block; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 60
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped during start-up")
        if time.monotonic() > deadline:
            raise TimeoutError("server did not start")
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class ServiceProcess:
    """A service started as its own OS process (`python -m <module>`), for crash tests."""

    def __init__(
        self,
        module: str,
        env: Mapping[str, str],
        *,
        port: int,
        log_path: Path | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.module = module
        self.env = {**os.environ, **env}
        self.port = port
        self.args = args
        self.log_path = log_path or PROJECT_ROOT / "var" / "test-logs" / f"{module}-{port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, *, wait_ready: bool = True, within: float = 60) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: ASYNC220 - Popen returns at once
            [sys.executable, "-m", self.module, *self.args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        if wait_ready:
            await self.wait_ready(within)

    async def wait_ready(self, within: float = 60) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"{self.module} exited; see {self.log_path}")
                try:
                    if (await client.get(f"{self.base_url}/healthz", timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.module} did not start; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL: no clean-up, as in a crash."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


class TestTokens:
    """A token issuer for tests, and a verifier that trusts it without an HTTP round trip."""

    __test__ = False

    def __init__(self, issuer: str = TEST_ISSUER, key_path: Path | None = None) -> None:
        key_path = key_path or PROJECT_ROOT / "var" / "test-keys" / "issuer.json"
        self.issuer = TokenIssuer(issuer, load_or_create_rsa_key(key_path))

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(issuer=self.issuer.issuer, jwks=self.issuer.jwks())

    def token(self, *scopes: str, subject: str = "test-client", **claims: Any) -> str:
        return self.issuer.issue(subject, scopes, client_id=subject, **claims)

    def headers(self, *scopes: str, subject: str = "test-client", **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(*scopes, subject=subject, **claims)}"}


@asynccontextmanager
async def app_client(app: FastAPI, base_url: str = "http://testserver") -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (migrations, relay, consumers) and talk to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
