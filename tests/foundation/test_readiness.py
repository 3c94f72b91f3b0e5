"""/readyz follows the broker: 503 with a problem body while Kafka is down, 200 once it is back."""

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from ozg_common.settings import PROJECT_ROOT
from ozg_testing import TestTokens, app_client

from .conftest import build_app

KAFKA = str(PROJECT_ROOT / "deploy" / "local" / "kafka.sh")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = await build_app("payment", TestTokens())
    async with app_client(app) as http:
        yield http


async def wait_for_status(client: httpx.AsyncClient, status: int, within: float = 90) -> httpx.Response:
    deadline = time.monotonic() + within
    while True:
        answer = await client.get("/readyz")
        if answer.status_code == status or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.5)


async def test_readyz_turns_503_without_kafka_and_200_when_it_returns(client: httpx.AsyncClient) -> None:
    assert (await client.get("/readyz")).status_code == 200
    await asyncio.to_thread(subprocess.run, [KAFKA, "down"], check=True)
    try:
        down = await wait_for_status(client, 503)
        assert down.status_code == 503
        assert down.headers["content-type"] == "application/problem+json"
        assert down.json()["checks"]["kafka"] == "unavailable"
        assert down.json()["checks"]["database"] == "ok"
    finally:
        await asyncio.to_thread(subprocess.run, [KAFKA, "up"], check=True)
    up = await wait_for_status(client, 200)
    assert up.status_code == 200, up.text
