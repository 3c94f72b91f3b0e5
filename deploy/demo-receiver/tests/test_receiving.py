"""Deliveries in: signatures, timestamps, deduplication, the control switches."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey
from pydantic import SecretStr

from ozg_demo_receiver.app import create_app
from ozg_demo_receiver.settings import DemoReceiverSettings
from ozg_testing import app_client, fresh_postgres_database


def destination() -> str:
    return f"dest-{uuid.uuid4()}"


async def applications(client: httpx.AsyncClient, submission_id: str) -> list[dict[str, object]]:
    answer = await client.get("/api/applications", params={"submissionId": submission_id})
    assert answer.status_code == 200
    listed: list[dict[str, object]] = answer.json()["applications"]
    return listed


async def test_standard_webhook_is_stored_once_per_webhook_id(
    client: httpx.AsyncClient, destination_key: RSAKey, envelope: Any, signed: Any
) -> None:
    body = envelope(destination_key, destination_id=destination())
    raw, headers = signed(body)

    first = await client.post(f"/kop/{body['destinationId']}", content=raw, headers=headers)
    again = await client.post(f"/kop/{body['destinationId']}", content=raw, headers=headers)

    assert first.status_code == 200
    assert first.json() == {"deliveryId": body["deliveryId"], "status": "received"}
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    [application] = await applications(client, body["submissionId"])
    assert application["deliveries"] == 1
    assert application["caseId"] == body["caseId"]
    totals = (await client.get("/api/applications")).json()["totals"]
    assert totals["repeatedDeliveries"] >= 1


async def test_fit_connect_callback_signature_is_accepted(
    client: httpx.AsyncClient, destination_key: RSAKey, envelope: Any, signed: Any
) -> None:
    body = envelope(destination_key, destination_id=destination())
    raw, headers = signed(body, scheme="fit-connect")

    answer = await client.post(f"/kop/{body['destinationId']}", content=raw, headers=headers)

    assert answer.status_code == 200
    assert len(await applications(client, body["submissionId"])) == 1


async def test_stale_or_forged_deliveries_are_refused_and_not_stored(
    client: httpx.AsyncClient, destination_key: RSAKey, envelope: Any, signed: Any
) -> None:
    body = envelope(destination_key, destination_id=destination())
    url = f"/kop/{body['destinationId']}"
    stale_raw, stale = signed(body, timestamp=int(time.time()) - 301)
    _, forged = signed(body, secret="whsec_" + "QUJD" * 8)
    raw, fresh = signed(body)
    other_destination = signed({**body, "destinationId": destination()})[1]
    old_callback = signed(body, scheme="fit-connect", timestamp=int(time.time()) - 600)[1]

    answers = [
        await client.post(url, content=stale_raw, headers=stale),
        await client.post(url, content=raw, headers=forged),
        await client.post(url, content=raw + b" ", headers=fresh),
        await client.post(url, content=raw, headers=other_destination),
        await client.post(url, content=raw, headers=old_callback),
        await client.post(url, content=raw, headers={"content-type": "application/json"}),
    ]

    for answer in answers:
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"].endswith("/signature-invalid")
    assert await applications(client, body["submissionId"]) == []


async def test_envelope_for_another_destination_is_unprocessable(
    client: httpx.AsyncClient, destination_key: RSAKey, envelope: Any, signed: Any
) -> None:
    body = envelope(destination_key, destination_id=destination())
    raw, headers = signed(body)
    # Signed correctly for the destination in the body, but posted to another one's URL.
    answer = await client.post(f"/kop/{destination()}", content=raw, headers=headers)
    assert answer.status_code == 401

    broken = {**body, "type": "parcel"}
    raw, headers = signed(broken)
    answer = await client.post(f"/kop/{body['destinationId']}", content=raw, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["type"].endswith("/envelope-invalid")


async def test_same_submission_under_a_new_delivery_id_counts_as_duplicate(
    client: httpx.AsyncClient, destination_key: RSAKey, envelope: Any, signed: Any
) -> None:
    body = envelope(destination_key, destination_id=destination())
    again = {**body, "deliveryId": str(uuid.uuid4())}
    for delivery in (body, again):
        raw, headers = signed(delivery)
        assert (
            await client.post(f"/kop/{body['destinationId']}", content=raw, headers=headers)
        ).status_code == 200

    [application] = await applications(client, body["submissionId"])
    assert application["deliveries"] == 2
    assert (await client.get("/api/applications")).json()["totals"]["duplicateSubmissions"] >= 1


async def test_control_switches_an_outage_on_and_off(
    client: httpx.AsyncClient, destination_key: RSAKey, envelope: Any, signed: Any
) -> None:
    body = envelope(destination_key, destination_id=destination())
    raw, headers = signed(body)
    url = f"/kop/{body['destinationId']}"

    state = await client.post("/_control", json={"failRequests": 2, "failStatus": 503, "retryAfter": 7})
    assert state.status_code == 200
    assert state.json()["failRequests"] == 2
    down = [await client.post(url, content=raw, headers=headers) for _ in range(2)]
    up = await client.post(url, content=raw, headers=headers)

    assert [a.status_code for a in down] == [503, 503]
    assert down[0].headers["retry-after"] == "7"
    assert down[0].headers["content-type"] == "application/problem+json"
    assert up.status_code == 200

    await client.post("/_control", json={"failForSeconds": 30, "failStatus": 429})
    assert (await client.post(url, content=raw, headers=headers)).status_code == 429
    reset = await client.post("/_control", json={"reset": True})
    assert reset.json()["failUntil"] == 0
    assert (await client.post(url, content=raw, headers=headers)).json()["status"] == "duplicate"
    assert (await client.post("/_control", json={"failStatus": 200})).status_code == 422
    assert (await client.post("/_control", json={"unknown": 1})).status_code == 422


async def test_status_page_lists_applications(
    client: httpx.AsyncClient, destination_key: RSAKey, envelope: Any, signed: Any
) -> None:
    body = envelope(destination_key, destination_id=destination())
    raw, headers = signed(body)
    await client.post(f"/kop/{body['destinationId']}", content=raw, headers=headers)

    page = await client.get("/")

    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert body["caseId"] in page.text
    missing = await client.get(f"/api/applications/{uuid.uuid4()}")
    assert missing.status_code == 404


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
async def store_only(
    request: pytest.FixtureRequest, settings: DemoReceiverSettings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """The receiver as the load benchmark runs it (stores, does not process) on a database of its own;
    SQLite is what `make run` uses."""
    if request.param == "postgresql":
        url = await fresh_postgres_database("test_demo_receiver_2")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'receiver.sqlite3'}"
    changes = {"database_url": SecretStr(url), "process_deliveries": False, "auto_answer": False}
    async with app_client(create_app(settings.model_copy(update=changes))) as http:
        yield http


async def totals(client: httpx.AsyncClient) -> dict[str, Any]:
    listed: dict[str, Any] = (await client.get("/api/applications")).json()["totals"]
    return listed


async def test_copies_arriving_at_once_are_stored_once(
    store_only: httpx.AsyncClient, destination_key: RSAKey, envelope: Any, signed: Any
) -> None:
    body = envelope(destination_key, destination_id=destination())
    raw, headers = signed(body)
    before = await totals(store_only)

    answers = await asyncio.gather(
        *(store_only.post(f"/kop/{body['destinationId']}", content=raw, headers=headers) for _ in range(6))
    )

    assert [a.status_code for a in answers] == [200] * 6
    assert sorted(a.json()["status"] for a in answers) == ["duplicate"] * 5 + ["received"]
    [application] = await applications(store_only, body["submissionId"])
    assert application["deliveries"] == 1
    assert application["stage"] == "received"
    assert application["leikaKey"] == body["service"]["leikaKey"]
    after = await totals(store_only)
    assert after["repeatedDeliveries"] - before["repeatedDeliveries"] == 5
    assert after["applications"] - before["applications"] == 1


async def test_one_submission_under_several_delivery_ids_at_once_is_one_application(
    store_only: httpx.AsyncClient, destination_key: RSAKey, envelope: Any, signed: Any
) -> None:
    body = envelope(destination_key, destination_id=destination())
    copies = [signed({**body, "deliveryId": str(uuid.uuid4())}) for _ in range(4)]

    answers = await asyncio.gather(
        *(store_only.post(f"/kop/{body['destinationId']}", content=raw, headers=h) for raw, h in copies)
    )

    assert [a.json()["status"] for a in answers] == ["received"] * 4
    [application] = await applications(store_only, body["submissionId"])
    assert application["deliveries"] == 4


async def test_a_read_receipt_is_stored_once_without_an_application(
    store_only: httpx.AsyncClient, destination_key: RSAKey, envelope: Any, signed: Any
) -> None:
    submission = envelope(destination_key, destination_id=destination())
    receipt = {
        "type": "read-receipt",
        "deliveryId": str(uuid.uuid4()),
        "destinationId": submission["destinationId"],
        "submissionId": submission["submissionId"],
        "caseId": submission["caseId"],
    }
    raw, headers = signed(receipt)
    url = f"/kop/{receipt['destinationId']}"

    first = await store_only.post(url, content=raw, headers=headers)
    again = await store_only.post(url, content=raw, headers=headers)

    assert (first.json()["status"], again.json()["status"]) == ("received", "duplicate")
    listed = (await store_only.get("/api/applications", params={"caseId": receipt["caseId"]})).json()
    assert listed["applications"] == []
    [message] = listed["messages"]
    assert (message["deliveryId"], message["kind"]) == (receipt["deliveryId"], "read-receipt")


async def test_a_callback_announcing_several_submissions_stores_each_once(
    store_only: httpx.AsyncClient, signed: Any
) -> None:
    destination_id = destination()
    refs = [
        {"destinationId": destination_id, "submissionId": str(uuid.uuid4()), "caseId": str(uuid.uuid4())}
        for _ in range(3)
    ]
    url = f"/kop/{destination_id}"

    async def announce(*announced: dict[str, str]) -> str:
        callback = {"type": "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions"}
        raw, headers = signed(
            {**callback, "submissions": list(announced)}, scheme="fit-connect", destination_id=destination_id
        )
        answer = await store_only.post(url, content=raw, headers=headers)
        assert answer.status_code == 200
        assert answer.json()["deliveryId"] == f"callback:{announced[0]['submissionId']}"
        status: str = answer.json()["status"]
        return status

    assert await announce(*refs[:2]) == "received"
    assert await announce(*refs[:2]) == "duplicate"
    assert await announce(refs[0], refs[2]) == "received"
    for ref in refs:
        [application] = await applications(store_only, ref["submissionId"])
        assert (application["caseId"], application["deliveries"]) == (ref["caseId"], 1)
