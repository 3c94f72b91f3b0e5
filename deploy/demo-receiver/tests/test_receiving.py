"""Deliveries in: signatures, timestamps, deduplication, the control switches."""

import time
import uuid
from typing import Any

import httpx
from joserfc.jwk import RSAKey


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
