"""The FIT-Connect sender side as public clients use it: tolerant where the federal API is, strict
where it must be, and bad input refused without leaving anything half stored."""

import base64
import json
import uuid
from typing import Any

import pytest
from submission_testkit import FIT_CONNECT_PROBLEMS, LEIKA_DOG, LEIKA_OTHER, Suite, problem

LEIKA_URN = "urn:de:fim:leika:leistung:"
EVENTS = "https://schema.fitko.de/fit-connect/events/"


async def create(suite: Suite, body: dict[str, Any]) -> Any:
    return await suite.http.post("/v1/submissions", json=body, headers=await suite.auth("sender"))


async def complete(suite: Suite, submission_id: str) -> Any:
    payload = {"encryptedMetadata": suite.encrypt_for_a(b"{}"), "encryptedData": suite.encrypt_for_a(b"{}")}
    return await suite.http.put(
        f"/v1/submissions/{submission_id}", json=payload, headers=await suite.auth("sender")
    )


async def upload(suite: Suite, submission_id: str, attachment_id: str, token: str) -> Any:
    return await suite.http.put(
        f"/v1/submissions/{submission_id}/attachments/{attachment_id}",
        content=token.encode(),
        headers={"Content-Type": "application/jose", **await suite.auth("sender")},
    )


async def logged_events(suite: Suite, submission_id: str) -> list[str]:
    """The names of the submission's events, in log order, as its sender reads them."""
    answer = await suite.http.get(
        f"/v1/submissions/{submission_id}/events", headers=await suite.auth("sender")
    )
    assert answer.status_code == 200, answer.text
    names = []
    for token in answer.json()["eventLog"]:
        claims = token.split(".")[1]
        payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
        names.append(next(iter(payload["events"])).removeprefix(EVENTS))
    return names


@pytest.mark.parametrize(
    ("service_type", "catalogue_name"),
    [
        ({"name": "", "identifier": LEIKA_URN + LEIKA_DOG}, "Hundesteuer Anmeldung"),
        ({"identifier": LEIKA_URN + LEIKA_DOG}, "Hundesteuer Anmeldung"),
        ({"name": "Anmeldung eines Hundes", "identifier": LEIKA_URN + LEIKA_DOG}, "Hundesteuer Anmeldung"),
        ({"name": "", "identifier": LEIKA_DOG}, "Hundesteuer Anmeldung"),
    ],
)
async def test_public_client_announcements_are_taken(
    suite: Suite, service_type: dict[str, str], catalogue_name: str
) -> None:
    # As a public client sends it: empty or no name, no caseId, fields of later API versions.
    body = {
        "destinationId": suite.dest_a,
        "announcedAttachments": [],
        "serviceType": service_type,
        "callback": {"url": "https://sender.example.org/callback", "secret": "s" * 32},
    }
    created = await create(suite, body)
    assert created.status_code == 201, created.text
    submission_id = created.json()["submissionId"]
    assert (await complete(suite, submission_id)).status_code == 200

    fetched = await suite.http.get(
        f"/v1/submissions/{submission_id}", headers=await suite.auth("subscriber-a")
    )
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["serviceType"] == {
        "name": catalogue_name,
        "identifier": LEIKA_URN + service_type["identifier"].removeprefix(LEIKA_URN),
    }, "the service's name comes from the catalogue"


async def test_announcements_are_strict_where_they_must_be(suite: Suite) -> None:
    service_type = {"name": "", "identifier": LEIKA_URN + LEIKA_DOG}

    def body(destination: str, **changes: Any) -> dict[str, Any]:
        return {
            "destinationId": destination,
            "announcedAttachments": [],
            "serviceType": service_type,
        } | changes

    unknown = problem(await create(suite, body(str(uuid.uuid4()))), 404, "destination-not-found")
    assert unknown["type"] == FIT_CONNECT_PROBLEMS + "destination-not-found"
    inactive = problem(await create(suite, body(suite.dest_closed)), 422, "destination-state-invalid")
    assert inactive["type"] == FIT_CONNECT_PROBLEMS + "destination-state-invalid"
    other = {"name": "", "identifier": LEIKA_URN + LEIKA_OTHER}
    not_offered = problem(
        await create(suite, body(suite.dest_b, serviceType=other)), 422, "service-not-offered"
    )
    assert not_offered["type"] == FIT_CONNECT_PROBLEMS + "service-not-offered"
    for identifier in ("urn:de:fim:leika:leistung:123", "Hundesteuer", ""):
        problem(
            await create(suite, body(suite.dest_a, serviceType={"identifier": identifier})),
            422,
            "unprocessable-entity",
        )

    announced = str(uuid.uuid4())
    created = await create(suite, body(suite.dest_a, announcedAttachments=[announced]))
    assert created.status_code == 201, created.text
    submission_id = created.json()["submissionId"]
    stray = problem(
        await upload(suite, submission_id, str(uuid.uuid4()), suite.encrypt_for_a(b"a", "text/plain")),
        422,
        "attachment-not-announced",
    )
    assert stray["type"] == FIT_CONNECT_PROBLEMS + "attachment-not-announced"
    assert (
        await upload(suite, submission_id, announced, suite.encrypt_for_a(b"a", "text/plain"))
    ).status_code == 204
    assert (await complete(suite, submission_id)).status_code == 200
