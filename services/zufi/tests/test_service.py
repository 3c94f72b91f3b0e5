import asyncio

import httpx


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    # As a readiness probe does, asked again until ready: on a busy machine one check may time out.
    for _ in range(30):
        ready = await client.get("/readyz")
        if ready.status_code == 200:
            break
        await asyncio.sleep(1)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "kafka": "ok"}


async def test_unknown_path_is_problem_json(client: httpx.AsyncClient) -> None:
    answer = await client.get("/no/such/thing")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 404
