"""The event catalogue: complete, self-consistent, served, and committed in its current form."""

from typing import Any

import httpx
import yaml
from fastapi import FastAPI

from ozg_common import contracts
from ozg_common.asyncapi import DOCUMENT_PATH, asyncapi_router, build_document, main, render_yaml
from ozg_common.events import Event


def test_committed_document_is_current() -> None:
    committed = DOCUMENT_PATH.read_text()
    assert committed == render_yaml(build_document()), (
        "docs/asyncapi.yaml is stale: run `uv run python -m ozg_common.asyncapi --write`"
    )
    assert main(["--check"]) == 0


def test_check_fails_for_a_stale_document(tmp_path: Any) -> None:
    stale = tmp_path / "asyncapi.yaml"
    stale.write_text(DOCUMENT_PATH.read_text().replace("delivery.dead_lettered", "delivery.gone"))
    assert main(["--check", "--path", str(stale)]) == 1


def test_every_topic_and_event_type_is_catalogued() -> None:
    document = build_document()
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {topic.name for topic in contracts.ALL_TOPICS}
    catalogued = {message["name"] for message in document["components"]["messages"].values()}
    contract_types = {
        name for name, cls in Event.registry.items() if cls.__module__.startswith("ozg_common.contracts.")
    }
    assert catalogued == contract_types
    assert "de.ozg-router.submission.ready_for_delivery" in catalogued


def test_every_reference_resolves() -> None:
    document = build_document()

    def resolve(pointer: str) -> Any:
        node: Any = document
        for part in pointer.removeprefix("#/").split("/"):
            node = node[part]
        return node

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                assert resolve(node["$ref"]) is not None
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


def test_payload_schema_matches_the_model_and_headers_carry_cloudevents() -> None:
    document = build_document()
    message = document["components"]["messages"]["SubmissionSubmitted"]
    schema = document["components"]["schemas"]["SubmissionSubmitted"]
    assert {"case_id", "submission_id", "destination_id", "submitted_at"} <= set(schema["required"])
    assert message["headers"]["properties"]["ce_type"] == {"const": "de.ozg-router.submission.submitted"}
    assert message["bindings"]["kafka"]["key"]["description"] == "Partition key: `case_id`."
    payment = document["components"]["messages"]["PaymentPayed"]
    assert "`case_id`, or else `transaction_id`" in payment["bindings"]["kafka"]["key"]["description"]


async def test_router_serves_yaml_and_json() -> None:
    app = FastAPI()
    app.include_router(asyncapi_router())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        as_yaml = await client.get("/asyncapi.yaml")
        as_json = await client.get("/asyncapi.json")
    assert as_yaml.status_code == 200
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(as_yaml.text) == as_json.json() == build_document()
