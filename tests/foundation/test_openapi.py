"""Every service's `/openapi.json` is a document a client can be generated from: valid OpenAPI with
every `$ref` resolving, a unique operationId on every operation, the bearer scopes of every
protected operation, an example on every JSON request body. And every paginated list answers
offsets and limits beyond its bounds with a 400 problem, on PostgreSQL and on SQLite."""

import importlib
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi import FastAPI
from openapi_spec_validator import validate

from ozg_common.pagination import LIMIT_MAX, OFFSET_MAX
from ozg_demo_receiver.app import create_app as create_demo_receiver
from ozg_demo_receiver.settings import DemoReceiverSettings
from ozg_testing import TestTokens, app_client, fresh_postgres_database

ALL_SCOPES = ("admin", "send", "citizen", "gateway")
METHODS = ("get", "put", "post", "delete", "patch")
HUGE = "478775936485137448960"


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def examples_of(document: dict[str, Any], schema: dict[str, Any]) -> list[Any]:
    """The schema's examples, following its `$ref` and the alternatives of an optional body."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        resolved: dict[str, Any] = document
        for part in ref.removeprefix("#/").split("/"):
            resolved = resolved[part]
        schema = resolved
    found = list(schema.get("examples", []))
    for member in schema.get("anyOf", []) + schema.get("oneOf", []):
        found += examples_of(document, member)
    return found


def assert_client_ready(document: dict[str, Any]) -> None:
    """Valid, every operation named once, every JSON body with an example that fits its schema."""
    validate(document)  # resolves every $ref on the way
    ids = [operation.get("operationId") for _, _, operation in operations(document)]
    assert all(ids), [f"{m} {p}" for m, p, o in operations(document) if not o.get("operationId")]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for method, path, operation in operations(document):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        media = content["application/json"]
        shown = [example["value"] for example in media.get("examples", {}).values()]
        shown += examples_of(document, media["schema"])
        assert shown, f"{method.upper()} {path}: the JSON request body has no example"
        checker = jsonschema.Draft202012Validator({**media["schema"], "components": document["components"]})
        for example in shown:
            assert not list(checker.iter_errors(example)), f"{method.upper()} {path}: {example}"


def concrete(path: str) -> str:
    for parameter in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        path = path.replace("{" + parameter + "}", str(uuid.uuid4()))
    return path


async def test_service_documents(service_client: httpx.AsyncClient) -> None:
    answer = await service_client.get("/openapi.json")
    assert answer.status_code == 200
    assert_client_ready(answer.json())


async def test_demo_receiver_document(tmp_path: Path) -> None:
    settings = DemoReceiverSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'receiver.sqlite3'}",
        signing_master_secret="openapi-" + uuid.uuid4().hex,
        destination_key_file=tmp_path / "destination-key.json",
    )
    # The document needs no database and no worker: the app is asked without its lifespan.
    transport = httpx.ASGITransport(app=create_demo_receiver(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answer = await client.get("/openapi.json")
        assert answer.status_code == 200
        assert_client_ready(answer.json())
        for limit in (HUGE, str(LIMIT_MAX + 1), "0"):
            listing = await client.get("/api/applications", params={"limit": limit})
            assert listing.status_code == 400, f"limit={limit}: {listing.status_code}"
            assert listing.headers["content-type"] == "application/problem+json"


async def test_protected_operations_name_their_scopes(
    service_client: httpx.AsyncClient, tokens: TestTokens
) -> None:
    """Whatever answers a call without a token 401 documents its bearer requirement, and the scopes
    it names are the ones it checks: a token without them is refused (403), one with them is not."""
    document = (await service_client.get("/openapi.json")).json()
    assert "bearer" in document["components"]["securitySchemes"]
    protected = 0
    for method, path, operation in operations(document):
        url = concrete(path)
        anonymous = await service_client.request(method, url)
        security = operation.get("security")
        if anonymous.status_code == 401 and "bearer" in anonymous.headers.get("www-authenticate", "").lower():
            assert security, f"{method.upper()} {path} needs a token but documents no security"
        if not security:
            continue
        protected += 1
        assert anonymous.status_code == 401, f"{method.upper()} {path}: {anonymous.status_code} without token"
        named = {scope for requirement in security for scope in requirement["bearer"]}
        if not named:
            continue
        subject = str(uuid.uuid4())
        others = [scope for scope in ALL_SCOPES if scope not in named]
        refused = await service_client.request(method, url, headers=tokens.headers(*others, subject=subject))
        assert refused.status_code == 403, f"{method.upper()} {path} without {sorted(named)}"
        for requirement in security:
            granted = tokens.headers(*requirement["bearer"], subject=subject)
            allowed = await service_client.request(method, url, headers=granted)
            assert allowed.status_code not in (401, 403), f"{method.upper()} {path} with {requirement}"
    assert protected > 0


async def build_on(service: str, database_url: str) -> FastAPI:
    """The service's real app on the given database, without Kafka (lists need none)."""
    app_module = importlib.import_module(f"ozg_{service}.app")
    settings_module = importlib.import_module(f"ozg_{service}.settings")
    settings_class = next(
        value
        for name, value in vars(settings_module).items()
        if name.endswith("Settings") and name != "ServiceSettings" and isinstance(value, type)
    )
    app: FastAPI = app_module.create_app(settings_class(database_url=database_url, kafka_enabled=False))
    return app


@pytest.fixture(params=["postgresql", "sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# zufi's lists (routes, areas, services, responsibilities) are bounded in zufi's own tests.
@pytest.fixture(params=["submission", "kop_gateway", "payment", "mailbox"])
async def paged_client(
    request: pytest.FixtureRequest, backend: str, tokens: TestTokens, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    service = str(request.param)
    url = (
        f"sqlite+aiosqlite:///{tmp_path / f'{service}.sqlite3'}"
        if backend == "sqlite"
        else await fresh_postgres_database(f"test_pages_{service}")
    )
    app = await build_on(service, url)
    app.state.token_verifier = tokens.verifier()
    async with app_client(app) as client:
        client.headers.update(tokens.headers(*ALL_SCOPES, subject=str(uuid.uuid4())))
        yield client


async def test_pagination_is_bounded(paged_client: httpx.AsyncClient) -> None:
    document = (await paged_client.get("/openapi.json")).json()
    lists = [
        path
        for method, path, operation in operations(document)
        if method == "get" and {"offset", "limit"} <= {p["name"] for p in operation.get("parameters", [])}
    ]
    assert lists, "every one of these services has a paginated list"
    for template in lists:
        # A list below an id (a case's events) is asked for an id nobody has: the bounds come first.
        path = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), template)
        for query in (
            {"offset": HUGE},
            {"offset": str(OFFSET_MAX + 1)},
            {"offset": "-1"},
            {"limit": "0"},
            {"limit": str(LIMIT_MAX + 1)},
            {"limit": HUGE},
        ):
            answer = await paged_client.get(path, params=query)
            assert answer.status_code == 400, f"{path} {query}: {answer.status_code}"
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["invalid_params"][0]["name"] in query
        # The largest offset and page the bounds allow are ones each database takes.
        edge = await paged_client.get(path, params={"offset": str(OFFSET_MAX), "limit": str(LIMIT_MAX)})
        if path != template and edge.status_code == 404:
            continue
        assert edge.status_code == 200, f"{path}: {edge.status_code} {edge.text}"
        assert edge.json()["offset"] == OFFSET_MAX
