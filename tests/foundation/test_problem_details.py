"""Every service answers malformed requests with application/problem+json, never a 500."""

import uuid

import httpx

from ozg_testing import TestTokens

ALL_SCOPES = ("admin", "send", "citizen", "gateway")


async def test_unknown_route_is_a_problem(service_client: httpx.AsyncClient) -> None:
    answer = await service_client.get(f"/no-such-route/{uuid.uuid4()}")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["status"] == 404
    assert body["title"]
    assert body["type"].startswith("http")


async def test_malformed_json_to_every_write_route_is_a_problem(
    service_client: httpx.AsyncClient, tokens: TestTokens
) -> None:
    openapi = (await service_client.get("/openapi.json")).json()
    headers = tokens.headers(*ALL_SCOPES, subject=str(uuid.uuid4())) | {"content-type": "application/json"}
    checked = 0
    for template, operations in openapi["paths"].items():
        path = template
        for parameter in [part[1:-1] for part in template.split("/") if part.startswith("{")]:
            path = path.replace("{" + parameter + "}", str(uuid.uuid4()))
        for method in ("post", "put", "patch"):
            if "requestBody" not in operations.get(method, {}):
                continue
            answer = await service_client.request(method, path, content=b'{"unterminated', headers=headers)
            assert 400 <= answer.status_code < 500, f"{method.upper()} {template}: {answer.status_code}"
            assert answer.headers["content-type"] == "application/problem+json", f"{method} {template}"
            checked += 1
    assert checked > 0, "every service takes some request body"


async def test_health_and_metrics(service_client: httpx.AsyncClient) -> None:
    assert (await service_client.get("/healthz")).json() == {"status": "ok"}
    ready = await service_client.get("/readyz")
    assert ready.status_code == 200, ready.text
    metrics = await service_client.get("/metrics")
    assert "http_requests_total" in metrics.text
    assert "outbox_backlog" in metrics.text
