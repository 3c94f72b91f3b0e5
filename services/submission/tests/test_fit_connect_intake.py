"""The FIT-Connect sender side as public clients use it: tolerant where the federal API is, strict
where it must be, and bad input refused without leaving anything half stored."""

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from submission_testkit import FIT_CONNECT_PROBLEMS, LEIKA_DOG, LEIKA_OTHER, LEIKA_PAY, Suite, problem

from ozg_common import jose
from ozg_common.contracts.payment import PaymentCanceled, PaymentEvent, PaymentOpened, PaymentPayed
from ozg_common.db import Database
from ozg_submission.models import Payment
from ozg_submission.settings import SubmissionSettings

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


async def status_of(suite: Suite, submission_id: str) -> dict[str, Any]:
    """What the sender reads of its submission's state."""
    answer = await suite.http.get(f"/v1/applications/{submission_id}", headers=await suite.auth("sender"))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_a_fee_is_no_reason_to_hold_a_fit_connect_submission(suite: Suite) -> None:
    service_type = {"name": "", "identifier": LEIKA_URN + LEIKA_PAY}
    created = await create(
        suite, {"destinationId": suite.dest_a, "announcedAttachments": [], "serviceType": service_type}
    )
    assert created.status_code == 201, created.text
    submission_id = created.json()["submissionId"]
    assert (await complete(suite, submission_id)).status_code == 200

    assert (await status_of(suite, submission_id))["status"] == "forwarded"
    announced = await suite.bus.expect("submission.submitted", lambda e: e["submission_id"] == submission_id)
    assert announced["payment_required"] is False, "the sender took the fee through its own ePayment"
    await suite.bus.expect("submission.ready_for_delivery", lambda e: e["submission_id"] == submission_id)
    assert await logged_events(suite, submission_id) == [
        "create-submission",
        "submit-submission",
    ]
    listing = await suite.http.get(
        f"/v1/submissions?destinationId={suite.dest_a}&limit=500", headers=await suite.auth("subscriber-a")
    )
    assert submission_id in {s["submissionId"] for s in listing.json()["submissions"]}


def payment(status: type[PaymentEvent], transaction_id: str, case_id: str | None) -> PaymentEvent:
    """What the payment service announces when a transaction ends."""
    return status(
        case_id=case_id,
        transaction_id=transaction_id,
        origin_id="orig",
        endpoint_id="01002000",
        request_id=str(uuid.uuid4()),
        payment_information={"transactionId": transaction_id, "status": status.status},
    )


async def status_becomes(suite: Suite, submission_id: str, check: Callable[[dict[str, Any]], bool]) -> None:
    deadline = time.monotonic() + 20
    while not check(await status_of(suite, submission_id)):
        assert time.monotonic() < deadline, await status_of(suite, submission_id)
        await asyncio.sleep(0.1)


async def test_a_transaction_opened_at_our_payment_service_decides(suite: Suite) -> None:
    transaction_id = f"tx-{uuid.uuid4()}"
    body = {
        "destinationId": suite.dest_a,
        "announcedAttachments": [],
        "serviceType": {"name": "", "identifier": LEIKA_URN + LEIKA_DOG},
        "paymentTransactionId": transaction_id,
    }
    created = await create(suite, body)
    assert created.status_code == 201, created.text
    submission_id, case_id = created.json()["submissionId"], created.json()["caseId"]
    metadata = suite.encrypt_for_a(b"{}")
    submitted = await suite.http.put(
        f"/v1/submissions/{submission_id}",
        json={"encryptedMetadata": metadata, "encryptedData": suite.encrypt_for_a(b"{}")},
        headers=await suite.auth("sender"),
    )
    assert submitted.status_code == 200, submitted.text

    waiting = await status_of(suite, submission_id)
    assert waiting["status"] == "awaiting_payment"
    assert waiting["payment"]["required"] is True
    assert await logged_events(suite, submission_id) == ["create-submission", "submit-submission"]
    announced = await suite.bus.expect("submission.submitted", lambda e: e["submission_id"] == submission_id)
    assert announced["payment_required"] is True
    assert announced["payment_transaction_id"] == transaction_id

    await suite.bus.publish(payment(PaymentCanceled, transaction_id, None))
    await status_becomes(suite, submission_id, lambda s: (s["payment"] or {}).get("status") == "CANCELED")
    assert (await status_of(suite, submission_id))["status"] == "awaiting_payment"
    assert await logged_events(suite, submission_id) == ["create-submission", "submit-submission"]

    # The citizen pays again, in a new transaction for the same case.
    paid = f"tx-{uuid.uuid4()}"
    await suite.bus.publish(payment(PaymentPayed, paid, case_id))
    await status_becomes(suite, submission_id, lambda s: s["status"] == "forwarded")
    assert (await status_of(suite, submission_id))["payment"]["status"] == "PAYED"
    assert await logged_events(suite, submission_id) == [
        "create-submission",
        "submit-submission",
    ]
    ready = await suite.bus.expect(
        "submission.ready_for_delivery", lambda e: e["submission_id"] == submission_id
    )
    assert ready["encrypted_metadata"] == metadata, "a FIT-Connect sender's metadata is passed on as sent"

    paid_first = await create(suite, body | {"paymentTransactionId": paid})
    assert paid_first.status_code == 201, paid_first.text
    assert (await complete(suite, paid_first.json()["submissionId"])).status_code == 200
    forwarded = await status_of(suite, paid_first.json()["submissionId"])
    assert forwarded["status"] == "forwarded", "a transaction paid before the submit forwards it at once"
    assert forwarded["payment"]["transactionId"] == paid


async def test_a_transaction_opened_for_the_case_holds_its_submission_unnamed(
    suite: Suite, settings: SubmissionSettings
) -> None:
    """The sender opens the payment at our payment service with the case it was given, and does not
    name the transaction when it submits: the open transaction still decides."""
    created = await create(
        suite,
        {
            "destinationId": suite.dest_a,
            "announcedAttachments": [],
            "serviceType": {"name": "", "identifier": LEIKA_URN + LEIKA_PAY},
        },
    )
    assert created.status_code == 201, created.text
    submission_id, case_id = created.json()["submissionId"], created.json()["caseId"]
    transaction_id = f"tx-{uuid.uuid4()}"
    await suite.bus.publish(
        PaymentOpened(
            case_id=case_id,
            transaction_id=transaction_id,
            origin_id="orig",
            endpoint_id="01002000",
            request_id=str(uuid.uuid4()),
        )
    )
    database = Database(settings.database_location)
    try:
        deadline = time.monotonic() + 20
        while True:  # the event is read asynchronously: submit once submission has it
            async with database.transaction() as session:
                if await session.get(Payment, transaction_id) is not None:
                    break
            assert time.monotonic() < deadline, "payment.opened never reached submission"
            await asyncio.sleep(0.1)
    finally:
        await database.dispose()

    assert (await complete(suite, submission_id)).status_code == 200
    waiting = await status_of(suite, submission_id)
    assert waiting["status"] == "awaiting_payment"
    assert waiting["payment"]["status"] == "INITIAL"
    assert await logged_events(suite, submission_id) == ["create-submission", "submit-submission"]

    await suite.bus.publish(payment(PaymentPayed, transaction_id, case_id))
    await status_becomes(suite, submission_id, lambda s: s["status"] == "forwarded")
    assert (await status_of(suite, submission_id))["payment"]["transactionId"] == transaction_id
    await suite.bus.expect("submission.ready_for_delivery", lambda e: e["submission_id"] == submission_id)


async def test_bad_input_is_refused_and_the_submission_stays_completable(suite: Suite) -> None:
    sender = await suite.auth("sender")
    service_type = {"name": "", "identifier": LEIKA_URN + LEIKA_DOG}
    twice = str(uuid.uuid4())
    duplicates = await create(
        suite,
        {"destinationId": suite.dest_a, "announcedAttachments": [twice, twice], "serviceType": service_type},
    )
    problem(duplicates, 400, "invalid-application")
    too_many = [str(uuid.uuid4()) for _ in range(6)]
    problem(
        await create(
            suite,
            {"destinationId": suite.dest_a, "announcedAttachments": too_many, "serviceType": service_type},
        ),
        413,
        "payload-too-large",
    )

    attachment = str(uuid.uuid4())
    created = await create(
        suite,
        {"destinationId": suite.dest_a, "announcedAttachments": [attachment], "serviceType": service_type},
    )
    assert created.status_code == 201, created.text
    submission_id = created.json()["submissionId"]
    sound = suite.encrypt_for_a(b"attachment", "text/plain")
    problem(
        await upload(suite, submission_id, attachment, suite.encrypt_for_a(b"z" * 70_000, "text/plain")),
        413,
        "payload-too-large",
    )
    problem(await upload(suite, submission_id, attachment, sound + ".extra"), 400, "invalid-jwe")
    problem(await upload(suite, submission_id, attachment, sound.rsplit(".", 1)[0]), 400, "invalid-jwe")
    for_another = jose.encrypt(b"attachment", suite.keys.dest_b, content_type="text/plain")
    problem(await upload(suite, submission_id, attachment, for_another), 422, "invalid-jwe-header")
    missing = problem(await complete(suite, submission_id), 422, "missing-attachments")
    assert missing["missingAttachments"] == [attachment], "no refused upload was kept"

    assert (await upload(suite, submission_id, attachment, sound)).status_code == 204
    metadata, data = suite.encrypt_for_a(b"{}"), suite.encrypt_for_a(b"{}")
    refused = [
        {"encryptedMetadata": metadata, "encryptedData": suite.encrypt_for_a(b"{}", "text/plain")},
        {"encryptedMetadata": metadata, "encryptedData": suite.encrypt_for_a(b"{}", None)},
        {"encryptedMetadata": suite.encrypt_for_a(b"<x/>", "application/xml"), "encryptedData": data},
        {
            "encryptedMetadata": metadata,
            "encryptedData": jose.encrypt(b"{}", suite.keys.dest_b, content_type="application/json"),
        },
    ]
    for payload in refused:
        answer = await suite.http.put(f"/v1/submissions/{submission_id}", json=payload, headers=sender)
        assert (
            problem(answer, 422, "invalid-jwe-header")["type"] == FIT_CONNECT_PROBLEMS + "invalid-jwe-header"
        )
    for payload in (
        {"encryptedMetadata": metadata[:-1] + ".", "encryptedData": data},
        {"encryptedMetadata": metadata, "encryptedData": "%%%.b.c.d.e"},
        {"encryptedMetadata": "", "encryptedData": data},
    ):
        answer = await suite.http.put(f"/v1/submissions/{submission_id}", json=payload, headers=sender)
        assert answer.status_code in (400, 422), answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert await logged_events(suite, submission_id) == ["create-submission"], "nothing was half submitted"
    assert (await status_of(suite, submission_id))["status"] == "incomplete"

    # `cty` may leave out "application/" (RFC 7516); the data may be XML.
    xml = suite.encrypt_for_a(b"<antrag/>", "xml")
    answer = await suite.http.put(
        f"/v1/submissions/{submission_id}",
        json={"encryptedMetadata": metadata, "encryptedData": xml},
        headers=sender,
    )
    assert answer.status_code == 200, answer.text
    fetched = await suite.http.get(
        f"/v1/submissions/{submission_id}", headers=await suite.auth("subscriber-a")
    )
    assert fetched.json()["attachments"] == [attachment]
    assert suite.decrypt(fetched.json()["encryptedData"])[1] == b"<antrag/>"
