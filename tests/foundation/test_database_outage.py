"""Every service answers a request that cannot reach its database with 503 and Retry-After, never a 500."""

import uuid

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from ozg_testing import TcpLink, TestTokens, app_client, fresh_postgres_database

from .conftest import SERVICES, build_app

ALL_SCOPES = ("admin", "send", "citizen", "gateway")


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_whose_database_is_gone_answers_503_with_retry_after(service: str) -> None:
    server = make_url(await fresh_postgres_database(f"test_outage_{service}"))
    link = TcpLink(server.host or "127.0.0.1", server.port or 5432)
    await link.connect()
    tokens = TestTokens()
    linked = server.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False)
    app = await build_app(service, tokens, database_url=SecretStr(linked))
    headers = tokens.headers(*ALL_SCOPES, subject=str(uuid.uuid4()))
    answers: dict[str, tuple[int, str, str | None]] = {}
    try:
        async with app_client(app) as client:
            openapi = (await client.get("/openapi.json")).json()
            await link.cut()
            for template, operations in openapi["paths"].items():
                if "get" not in operations or template in {"/readyz", "/healthz", "/metrics"}:
                    continue
                path = template
                for parameter in [part[1:-1] for part in template.split("/") if part.startswith("{")]:
                    path = path.replace("{" + parameter + "}", str(uuid.uuid4()))
                answer = await client.get(path, headers=headers)
                answers[template] = (
                    answer.status_code,
                    answer.headers.get("content-type", ""),
                    answer.headers.get("retry-after"),
                )
    finally:
        await link.cut()

    refused = {template: answer for template, answer in answers.items() if answer[0] >= 500}
    assert {status for status, _, _ in refused.values()} == {503}, refused
    assert {media_type for _, media_type, _ in refused.values()} == {"application/problem+json"}
    # Besides the database, a route may answer 503 for a dependency of its own (payment's provider).
    assert any(retry == "5" for _, _, retry in refused.values()), refused
