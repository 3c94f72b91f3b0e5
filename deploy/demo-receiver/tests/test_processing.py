"""Applications worked on: decrypted, checked, answered through the return channel."""

import asyncio
import base64
import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from joserfc.jwk import RSAKey

from ozg_demo_receiver.processing.pdf import text_pdf


async def deliver(client: httpx.AsyncClient, signed: Any, body: dict[str, Any]) -> None:
    raw, headers = signed(body)
    answer = await client.post(f"/kop/{body['destinationId']}", content=raw, headers=headers)
    assert answer.status_code == 200, answer.text


async def settled(client: httpx.AsyncClient, submission_id: str, within: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        application: dict[str, Any] = (await client.get(f"/api/applications/{submission_id}")).json()
        if application["stage"] in {"completed", "rejected", "failed"}:
            return application
        await asyncio.sleep(0.1)
    raise AssertionError(f"application not settled: {application}")


async def test_valid_application_is_accepted_processed_and_answered_with_a_pdf(
    client: httpx.AsyncClient, destination_key: RSAKey, envelope: Any, signed: Any, gateway: Any
) -> None:
    destination_id = f"dest-{uuid.uuid4()}"
    body = envelope(destination_key, destination_id=destination_id)

    await deliver(client, signed, body)
    application = await settled(client, body["submissionId"])

    assert application["stage"] == "completed"
    assert application["dataValid"] is True
    calls = gateway.for_case(body["caseId"])
    assert [(c["what"], c["body"].get("decision") or c["body"].get("status")) for c in calls] == [
        ("acknowledgement", "accept"),
        ("status", "PROCESSING"),
        ("replies", None),
        ("status", "COMPLETED"),
    ]
    assert all(c["scopes"] == [f"destination:{destination_id}"] for c in calls)
    assert {"client_id": "demo-receiver", "scope": f"destination:{destination_id}"} in gateway.token_requests
    [attachment] = calls[2]["body"]["attachments"]
    assert attachment["mimeType"] == "application/pdf"
    pdf = base64.b64decode(attachment["contentBase64"])
    assert pdf.startswith(b"%PDF-1.4")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert len({c["idempotency_key"] for c in calls}) == 4


async def test_data_that_is_not_well_formed_xml_is_rejected_with_problems(
    client: httpx.AsyncClient, destination_key: RSAKey, envelope: Any, signed: Any, gateway: Any
) -> None:
    body = envelope(
        destination_key, destination_id=f"dest-{uuid.uuid4()}", data=b"<antrag><unclosed></antrag>"
    )

    await deliver(client, signed, body)
    application = await settled(client, body["submissionId"])

    assert application["stage"] == "rejected"
    assert application["dataValid"] is False
    [call] = gateway.for_case(body["caseId"])
    assert call["body"]["decision"] == "reject"
    assert call["body"]["problems"][0]["type"].endswith("/schema-violation")


async def test_data_breaking_the_xsd_is_rejected_with_the_violations(
    client: httpx.AsyncClient, destination_key: RSAKey, gateway: Any, envelope: Any, signed: Any
) -> None:
    antrag = (Path(__file__).parent / "antrag.xml").read_bytes()
    broken = antrag.replace(b"<leikaKey>99050035001000</leikaKey>", b"<leikaKey>12</leikaKey>")
    body = envelope(destination_key, destination_id=f"dest-{uuid.uuid4()}", data=broken)

    await deliver(client, signed, body)
    application = await settled(client, body["submissionId"])

    assert application["stage"] == "rejected"
    [call] = gateway.for_case(body["caseId"])
    assert call["body"]["problems"][0]["type"].endswith("/schema-violation")
    assert "leikaKey" in call["body"]["problems"][0]["detail"]


async def test_hash_mismatch_and_foreign_key_are_rejected(
    client: httpx.AsyncClient, destination_key: RSAKey, envelope: Any, signed: Any, gateway: Any
) -> None:
    tampered = envelope(destination_key, destination_id=f"dest-{uuid.uuid4()}", data_hash="00" * 64)
    stranger = RSAKey.generate_key(2048, parameters={"kid": "other"}, private=True)
    unreadable = envelope(stranger, destination_id=f"dest-{uuid.uuid4()}")

    await deliver(client, signed, tampered)
    await deliver(client, signed, unreadable)

    for body, slug in ((tampered, "hash-mismatch"), (unreadable, "encryption-issue")):
        assert (await settled(client, body["submissionId"]))["stage"] == "rejected"
        [call] = gateway.for_case(body["caseId"])
        assert call["body"]["problems"][0]["type"].endswith(f"/{slug}")


async def test_authority_rejects_the_services_it_was_told_to(
    client: httpx.AsyncClient, destination_key: RSAKey, envelope: Any, signed: Any, gateway: Any
) -> None:
    await client.post("/_control", json={"rejectLeikaKeys": ["99123456789012"]})
    try:
        body = envelope(destination_key, destination_id=f"dest-{uuid.uuid4()}", leika_key="99123456789012")
        await deliver(client, signed, body)
        application = await settled(client, body["submissionId"])
    finally:
        await client.post("/_control", json={"reset": True})

    assert application["stage"] == "rejected"
    [call] = gateway.for_case(body["caseId"])
    assert call["body"]["problems"][0]["type"].endswith("/unsupported-service")


async def test_paused_answering_resumes_when_switched_on(
    client: httpx.AsyncClient, destination_key: RSAKey, envelope: Any, signed: Any, gateway: Any
) -> None:
    await client.post("/_control", json={"autoAnswer": False})
    body = envelope(destination_key, destination_id=f"dest-{uuid.uuid4()}")
    await deliver(client, signed, body)
    await asyncio.sleep(1.0)
    paused = (await client.get(f"/api/applications/{body['submissionId']}")).json()
    assert paused["stage"] == "received"
    assert paused["dataValid"] is True
    assert gateway.for_case(body["caseId"]) == []

    await client.post("/_control", json={"autoAnswer": True})
    assert (await settled(client, body["submissionId"]))["stage"] == "completed"


def test_pdf_cross_reference_points_at_its_objects() -> None:
    pdf = text_pdf("Bescheid über (Gewerbe)anmeldung", ["Straße 1", "Grüße \\ aus Kiel"])

    start = int(re.findall(rb"startxref\n(\d+)", pdf)[0])
    assert pdf[start:].startswith(b"xref\n0 7\n")
    offsets = [int(m) for m in re.findall(rb"(\d{10}) 00000 n ", pdf)]
    assert [pdf[o:].split(b"\n", 1)[0] for o in offsets] == [b"%d 0 obj" % n for n in range(1, 7)]
    assert b"(Bescheid \xfcber \\(Gewerbe\\)anmeldung)" in pdf


async def test_fit_connect_callback_is_picked_up_from_the_submission_api(
    client: httpx.AsyncClient, destination_key: RSAKey, gateway: Any, envelope: Any, signed: Any
) -> None:
    body = envelope(destination_key, destination_id=f"dest-{uuid.uuid4()}")
    gateway.submissions[body["submissionId"]] = {**body, "attachments": []}
    ids = {k: body[k] for k in ("destinationId", "submissionId", "caseId")}
    callback = {
        "type": "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions",
        "submissionIds": [ids["submissionId"]],
        "submissions": [ids],
    }
    raw, headers = signed(callback, scheme="fit-connect", destination_id=body["destinationId"])

    first = await client.post(f"/kop/{body['destinationId']}", content=raw, headers=headers)
    again = await client.post(f"/kop/{body['destinationId']}", content=raw, headers=headers)

    assert first.json()["status"] == "received"
    assert again.json()["status"] == "duplicate"
    assert (await settled(client, body["submissionId"]))["stage"] == "completed"
