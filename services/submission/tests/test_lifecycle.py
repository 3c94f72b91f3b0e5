"""What other services tell submission over Kafka: payments, deliveries, decisions, citizens' replies."""

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from joserfc.jwk import KeySet
from sqlalchemy import update
from submission_testkit import ARS_KIEL, GATEWAY_ISSUER, LEIKA_DOG, LEIKA_PAY, Suite, gateway_decision

from ozg_common import jose, security_events
from ozg_common.contracts.delivery import CaseAccepted, CaseRejected, DeliveryDeadLettered, DeliverySucceeded
from ozg_common.contracts.mailbox import MailboxCitizenReplied
from ozg_common.contracts.payment import PaymentCanceled, PaymentPayed
from ozg_common.db import Database
from ozg_common.security_events import ACCEPT, REJECT
from ozg_submission.models import Submission
from ozg_submission.settings import SubmissionSettings

APPLICANT = {"givenName": "Erika", "familyName": "Mustermann"}


def payment_information(transaction_id: str, status: str = "PAYED") -> dict[str, Any]:
    return {
        "transactionId": transaction_id,
        "transactionReference": "KZ-2026-0001",
        "transactionTimestamp": datetime.now(UTC).isoformat(),
        "paymentMethod": "CREDITCARD",
        "status": status,
    }


def payed(transaction_id: str, case_id: str | None) -> PaymentPayed:
    return PaymentPayed(
        case_id=case_id,
        transaction_id=transaction_id,
        origin_id="orig",
        endpoint_id="01002000",
        request_id=str(uuid.uuid4()),
        payment_information=payment_information(transaction_id),
    )


async def status_becomes(suite: Suite, submission_id: str, wanted: str, within: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + within
    headers = await suite.auth("sender")
    while time.monotonic() < deadline:
        body: dict[str, Any] = (
            await suite.http.get(f"/v1/applications/{submission_id}", headers=headers)
        ).json()
        if body["status"] == wanted:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"{submission_id} never became {wanted}")


async def apply(suite: Suite, leika_key: str = LEIKA_PAY, **extra: Any) -> dict[str, Any]:
    body = {"leikaKey": leika_key, "ars": ARS_KIEL, "applicant": APPLICANT, "formData": {}} | extra
    if leika_key == LEIKA_DOG:
        body["formData"] = {"hund": {"name": "Bello", "geburtsjahr": 2020}}
    answer = await suite.http.post("/v1/applications", json=body, headers=await suite.auth("sender"))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def test_payment_gates_forwarding(suite: Suite) -> None:
    created = await apply(suite)
    assert created["status"] == "awaiting_payment"
    assert created["payment"]["required"] is True
    assert created["payment"]["amount"] == "25.00"
    assert created["payment"]["fees"][0]["id"] == "fee-1"
    submitted = await suite.bus.expect(
        "submission.submitted", lambda e: e["submission_id"] == created["submissionId"]
    )
    assert submitted["payment_required"] is True

    await suite.bus.publish(PaymentCanceled(**payed("tx-cancel", created["caseId"]).model_dump()))
    canceled = await asyncio.wait_for(_payment_status(suite, created["submissionId"], "CANCELED"), 20)
    assert canceled["status"] == "awaiting_payment", (
        "a cancelled payment neither forwards nor loses the application"
    )

    await suite.bus.publish(payed("tx-late", created["caseId"]))
    done = await status_becomes(suite, created["submissionId"], "forwarded")
    assert done["payment"]["status"] == "PAYED"
    ready = await suite.bus.expect(
        "submission.ready_for_delivery", lambda e: e["submission_id"] == created["submissionId"]
    )
    metadata = suite.metadata(ready["encrypted_metadata"])
    assert metadata["paymentInformation"]["transactionId"] == "tx-late"
    assert metadata["paymentInformation"]["transactionReference"] == "KZ-2026-0001"
    # XBezahldienste's PAYED in FIT-Connect's words.
    assert metadata["paymentInformation"]["status"] == "BOOKED"


async def _payment_status(suite: Suite, submission_id: str, wanted: str) -> dict[str, Any]:
    headers = await suite.auth("sender")
    while True:
        body: dict[str, Any] = (
            await suite.http.get(f"/v1/applications/{submission_id}", headers=headers)
        ).json()
        if (body.get("payment") or {}).get("status") == wanted:
            return body
        await asyncio.sleep(0.1)


async def test_paid_before_submitting_is_forwarded_at_once(suite: Suite) -> None:
    transaction_id = f"tx-{uuid.uuid4().hex[:16]}"  # at most 36 characters, as the standards say
    await suite.bus.publish(payed(transaction_id, None))
    deadline = time.monotonic() + 20
    while True:
        created = await apply(suite, paymentInformation={"transactionId": transaction_id})
        if created["status"] == "forwarded" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert created["status"] == "forwarded"
    ready = await suite.bus.expect(
        "submission.ready_for_delivery", lambda e: e["submission_id"] == created["submissionId"]
    )
    assert (
        suite.metadata(ready["encrypted_metadata"])["paymentInformation"]["transactionId"] == transaction_id
    )


async def ready_tags(suite: Suite, created: dict[str, Any]) -> dict[str, Any]:
    """The authentication tags kop-gateway is given with the submission to deliver."""
    ready = await suite.bus.expect(
        "submission.ready_for_delivery", lambda e: e["submission_id"] == created["submissionId"]
    )
    tags: dict[str, Any] = ready["authentication_tags"]
    return tags


async def case_log(suite: Suite, case_id: str) -> list[security_events.SecurityEvent]:
    """The case's log, each SET verified with our published key or kop-gateway's."""
    ours = (await suite.http.get("/.well-known/jwks.json")).json()["keys"]
    trusted = KeySet.import_key_set({"keys": [*ours, suite.keys.public(suite.keys.gateway)]})
    log = (await suite.http.get(f"/v1/cases/{case_id}/events", headers=await suite.auth("sender"))).json()
    return [security_events.verify(token, trusted) for token in log["eventLog"]]


async def test_kop_gateway_outcomes_reach_the_lifecycle_and_event_log(
    suite: Suite, settings: SubmissionSettings
) -> None:
    delivered, rejected = await apply(suite, LEIKA_DOG), await apply(suite, LEIKA_DOG)
    tags = await ready_tags(suite, delivered)
    assert set(tags) == {"metadata", "data", "attachments"}
    now = datetime.now(UTC)
    common = {"destination_id": suite.dest_a, "attempts": 1, "kind": "submission"}
    problems = [{"type": "urn:x", "title": "Unterlagen fehlen"}]
    await suite.bus.publish(
        DeliveryDeadLettered(
            case_id=rejected["caseId"],
            submission_id=rejected["submissionId"],
            delivery_id="d0",
            last_error="502 from the KOP",
            **common,
        ),
        DeliverySucceeded(
            case_id=delivered["caseId"],
            submission_id=delivered["submissionId"],
            delivery_id="d1",
            delivered_at=now,
            **common,
        ),
        CaseAccepted(
            case_id=delivered["caseId"],
            submission_id=delivered["submissionId"],
            destination_id=suite.dest_a,
            accepted_at=now,
            security_event_token=gateway_decision(
                suite.keys.gateway,
                ACCEPT,
                delivered["submissionId"],
                delivered["caseId"],
                {"authenticationTags": tags},
            ),
        ),
        CaseRejected(
            case_id=rejected["caseId"],
            submission_id=rejected["submissionId"],
            destination_id=suite.dest_a,
            rejected_at=now,
            problems=problems,
            security_event_token=gateway_decision(
                suite.keys.gateway,
                REJECT,
                rejected["submissionId"],
                rejected["caseId"],
                {"problems": problems},
            ),
        ),
    )
    await status_becomes(suite, delivered["submissionId"], "accepted")
    failed = await status_becomes(suite, rejected["submissionId"], "rejected")
    assert failed["deliveryError"] == "502 from the KOP"

    accepted_log = await case_log(suite, delivered["caseId"])
    # forward-submission is the destination's to write; submission vouches for create and submit only.
    assert [e.event for e in accepted_log] == ["create-submission", "submit-submission", "accept-submission"]
    assert {e.issuer for e in accepted_log[:2]} == {settings.public_base_url}
    assert accepted_log[-1].issuer == GATEWAY_ISSUER
    assert accepted_log[-1].details == {"authenticationTags": tags}
    last = (await case_log(suite, rejected["caseId"]))[-1]
    assert (last.event, last.issuer, last.details) == (
        "reject-submission",
        GATEWAY_ISSUER,
        {"problems": problems},
    )


async def test_a_decision_not_signed_as_kop_gateways_is_not_logged(suite: Suite) -> None:
    created = await apply(suite, LEIKA_DOG)
    sid, cid = created["submissionId"], created["caseId"]
    tags = await ready_tags(suite, created)
    now = datetime.now(UTC)

    def accepted(token: str | None) -> CaseAccepted:
        return CaseAccepted(
            case_id=cid,
            submission_id=sid,
            destination_id=suite.dest_b,
            accepted_at=now,
            security_event_token=token,
        )

    wrong_tags = tags | {"metadata": "c29tZXRoaW5nIGVsc2U"}
    problems = [{"type": "urn:x", "title": "Nicht zuständig"}]
    await suite.bus.publish(
        accepted(gateway_decision(suite.keys.subscriber, ACCEPT, sid, cid, {"authenticationTags": tags})),
        accepted(gateway_decision(suite.keys.gateway, ACCEPT, sid, cid, {"authenticationTags": wrong_tags})),
        accepted(
            gateway_decision(
                suite.keys.gateway, ACCEPT, sid, cid, {"authenticationTags": tags}, issuer=suite.dest_b
            )
        ),
        accepted(None),
        # The same case, so the same partition: once this is applied, the forgeries were too.
        CaseRejected(
            case_id=cid,
            submission_id=sid,
            destination_id=suite.dest_b,
            rejected_at=now,
            problems=problems,
            security_event_token=gateway_decision(
                suite.keys.gateway, REJECT, sid, cid, {"problems": problems}
            ),
        ),
    )
    await status_becomes(suite, sid, "rejected")
    assert [e.event for e in await case_log(suite, cid)] == [
        "create-submission",
        "submit-submission",
        "reject-submission",
    ]
    metrics = (await suite.http.get("/metrics")).text
    for reason in ("signature", "tags", "issuer", "missing"):
        assert f'gateway_decisions_refused_total{{reason="{reason}"}}' in metrics, reason


async def test_a_submission_from_before_tags_were_kept_is_accepted_without_comparing_them(
    suite: Suite, settings: SubmissionSettings
) -> None:
    """README, "Upgrading": a submission submitted by a version that kept no authentication tags has
    nothing to compare an accept's tags with, so kop-gateway's accept is logged as it is."""
    created = await apply(suite, LEIKA_DOG)
    sid, cid = created["submissionId"], created["caseId"]
    tags = await ready_tags(suite, created)
    database = Database(settings.database_location)
    try:
        async with database.transaction() as session:
            await session.execute(
                update(Submission).where(Submission.id == uuid.UUID(sid)).values(authentication_tags=None)
            )
    finally:
        await database.dispose()

    others = tags | {"metadata": "c29tZXRoaW5nIGVsc2U"}
    await suite.bus.publish(
        CaseAccepted(
            case_id=cid,
            submission_id=sid,
            destination_id=suite.dest_a,
            accepted_at=datetime.now(UTC),
            security_event_token=gateway_decision(
                suite.keys.gateway, ACCEPT, sid, cid, {"authenticationTags": others}
            ),
        )
    )
    await status_becomes(suite, sid, "accepted")
    log = await case_log(suite, cid)
    assert [e.event for e in log] == ["create-submission", "submit-submission", "accept-submission"]
    assert log[-1].issuer == GATEWAY_ISSUER


async def test_a_delivery_after_a_dead_letter_clears_the_error(suite: Suite) -> None:
    """An operator replayed a dead-lettered delivery and it went through."""
    created = await apply(suite, LEIKA_DOG)
    common = {
        "case_id": created["caseId"],
        "submission_id": created["submissionId"],
        "destination_id": suite.dest_a,
        "attempts": 1,
    }
    await suite.bus.publish(
        DeliveryDeadLettered(delivery_id="d0", last_error="502 from the KOP", **common),
        DeliverySucceeded(delivery_id="d0", delivered_at=datetime.now(UTC), **common),
    )
    delivered = await status_becomes(suite, created["submissionId"], "delivered")
    assert delivered.get("deliveryError") is None


async def test_citizen_reply_is_encrypted_for_the_destination(suite: Suite) -> None:
    created = await apply(suite, LEIKA_DOG)
    await suite.bus.publish(
        MailboxCitizenReplied(
            case_id=created["caseId"],
            reply_id="r-1",
            in_reply_to="m-1",
            destination_id=suite.dest_a,
            title="Nachreichung",
            content="Anbei der Nachweis.",
            replied_at=datetime.now(UTC),
        )
    )
    reply = await suite.bus.expect("submission.reply_ready_for_delivery", lambda e: e["reply_id"] == "r-1")
    assert reply["submission_id"] == created["submissionId"]
    header, plaintext = suite.decrypt(reply["encrypted_reply"])
    assert header.cty == "application/json"
    assert json.loads(plaintext)["content"] == "Anbei der Nachweis."


@pytest.mark.parametrize(
    "callback",
    [True, None],
    ids=["flagged", "from an older kop-gateway: the Zustellkanal says so"],
)
async def test_a_callback_is_no_pickup(suite: Suite, callback: bool | None) -> None:
    """Callback-mode destinations are told there is something to fetch; they have it once they fetch it."""
    sender = await suite.auth("sender")
    created = await suite.http.post(
        "/v1/submissions",
        json={
            "destinationId": suite.dest_c,
            "announcedAttachments": [],
            "serviceType": {"name": "Hundesteuer", "identifier": LEIKA_DOG},
        },
        headers=sender,
    )
    sid, cid = created.json()["submissionId"], created.json()["caseId"]
    empty = jose.encrypt(b"{}", suite.keys.dest_b, content_type="application/json")  # c holds dest_b's key
    answer = await suite.http.put(
        f"/v1/submissions/{sid}", json={"encryptedMetadata": empty, "encryptedData": empty}, headers=sender
    )
    assert answer.status_code == 200, answer.text
    notified = DeliverySucceeded(
        case_id=cid,
        submission_id=sid,
        delivery_id="callback-1",
        destination_id=suite.dest_c,
        attempts=1,
        delivered_at=datetime.now(UTC),
        callback=callback,
    )
    # A later event of the same case (same partition): once it is applied, the callback was too.
    dead = DeliveryDeadLettered(**(notified.model_dump(exclude={"callback"}) | {"last_error": "probe"}))
    await suite.bus.publish(notified, dead)
    status = await _delivery_error(suite, sid, "probe")
    assert status["status"] == "forwarded"
    fetched = await suite.http.get(f"/v1/submissions/{sid}", headers=await suite.auth("subscriber-c"))
    assert fetched.status_code == 200
    await status_becomes(suite, sid, "delivered")


async def _delivery_error(suite: Suite, submission_id: str, wanted: str) -> dict[str, Any]:
    headers = await suite.auth("sender")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        body: dict[str, Any] = (
            await suite.http.get(f"/v1/applications/{submission_id}", headers=headers)
        ).json()
        if body.get("deliveryError") == wanted:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"{submission_id} never showed delivery error {wanted}")
