"""Return channel: a destination answers its own cases (and nobody else's)."""

import base64
import hashlib
import uuid
from datetime import UTC, datetime

import pytest
from kop_testkit import Suite, eventually, ready_event
from sqlalchemy import select

from ozg_common import security_events
from ozg_common.contracts.delivery import CaseAccepted
from ozg_common.db import Database
from ozg_common.events import CloudEvent
from ozg_kop_gateway.models import Case


@pytest.fixture
async def delivered(suite: Suite) -> tuple[str, str]:
    """A destination and a case delivered to it."""
    destination_id = await suite.destination()
    event = ready_event(destination_id)
    await suite.kafka.publish(event)
    await suite.settled(destination_id, 1)
    return destination_id, event.case_id


async def test_the_owner_accepts_and_submission_learns_it(suite: Suite, delivered: tuple[str, str]) -> None:
    destination_id, case_id = delivered
    owner = suite.tokens.headers(f"destination:{destination_id}")
    answer = await suite.http.post(
        f"/v1/cases/{case_id}/acknowledgement", json={"decision": "accept"}, headers=owner
    )
    assert answer.status_code == 202
    assert answer.json() == {"caseId": case_id, "decision": "accept"}
    event = await suite.kafka.published(
        "delivery.events", lambda e: e.type.endswith("case.accepted") and e.data["case_id"] == case_id
    )
    assert event.data["destination_id"] == destination_id

    same = await suite.http.post(
        f"/v1/cases/{case_id}/acknowledgement", json={"decision": "accept"}, headers=owner
    )
    assert same.status_code == 202
    changed = await suite.http.post(
        f"/v1/cases/{case_id}/acknowledgement",
        json={"decision": "reject", "problems": [{"type": "urn:x", "title": "late"}]},
        headers=owner,
    )
    assert changed.status_code == 409
    assert changed.headers["content-type"] == "application/problem+json"


async def test_the_gateway_signs_the_decision_under_its_own_iss(suite: Suite) -> None:
    """The authority has no signing key of its own: the gateway vouches for its answer, and says so."""
    destination_id = await suite.destination()
    accepted, rejected = ready_event(destination_id), ready_event(destination_id)
    await suite.kafka.publish(accepted)
    await suite.kafka.publish(rejected)
    await suite.settled(destination_id, 2)
    owner = suite.tokens.headers(f"destination:{destination_id}")
    problems = [{"type": "https://example.org/problems/missing-document", "title": "Nachweis fehlt"}]
    for event, body in [
        (accepted, {"decision": "accept"}),
        (rejected, {"decision": "reject", "problems": problems}),
    ]:
        answer = await suite.http.post(f"/v1/cases/{event.case_id}/acknowledgement", json=body, headers=owner)
        assert answer.status_code == 202, answer.text
    jwks = (await suite.http.get("/.well-known/jwks.json")).json()
    assert [(key["alg"], key["kty"]) for key in jwks["keys"]] == [("PS512", "RSA")]

    tokens = {}
    for event, kind in [(accepted, "case.accepted"), (rejected, "case.rejected")]:
        published = await suite.kafka.published(
            "delivery.events",
            lambda e, case_id=event.case_id, kind=kind: (
                e.type.endswith(kind) and e.data["case_id"] == case_id
            ),
        )
        # Verified with the published key and checked against FIT-Connect's SET payload rules.
        verified = security_events.verify(published.data["security_event_token"], jwks)
        assert verified.issuer == suite.settings.public_base_url
        assert (str(verified.subject_id), str(verified.case_id)) == (event.submission_id, event.case_id)
        tokens[kind] = verified
    assert tokens["case.accepted"].event == "accept-submission"
    assert tokens["case.accepted"].details == {"authenticationTags": accepted.authentication_tags}
    assert tokens["case.rejected"].event == "reject-submission"
    assert tokens["case.rejected"].details == {"problems": problems}


async def test_reject_needs_problems(suite: Suite, delivered: tuple[str, str]) -> None:
    destination_id, case_id = delivered
    owner = suite.tokens.headers(f"destination:{destination_id}")
    bare = await suite.http.post(
        f"/v1/cases/{case_id}/acknowledgement", json={"decision": "reject"}, headers=owner
    )
    assert bare.status_code == 422
    problems = [{"type": "https://example.org/problems/missing-document", "title": "Nachweis fehlt"}]
    answer = await suite.http.post(
        f"/v1/cases/{case_id}/acknowledgement",
        json={"decision": "reject", "problems": problems},
        headers=owner,
    )
    assert answer.status_code == 202
    event = await suite.kafka.published(
        "delivery.events", lambda e: e.type.endswith("case.rejected") and e.data["case_id"] == case_id
    )
    assert event.data["problems"] == problems


async def test_another_destination_cannot_answer(suite: Suite, delivered: tuple[str, str]) -> None:
    _, case_id = delivered
    intruder = suite.tokens.headers(f"destination:{uuid.uuid4()}")
    for path, body in [
        ("acknowledgement", {"decision": "accept"}),
        ("status", {"status": "PROCESSING"}),
        ("replies", {"title": "t", "content": "c"}),
    ]:
        answer = await suite.http.post(f"/v1/cases/{case_id}/{path}", json=body, headers=intruder)
        assert answer.status_code == 404, path
        assert answer.json()["type"].endswith("/case-not-found")
    sender = await suite.http.post(
        f"/v1/cases/{case_id}/status", json={"status": "PROCESSING"}, headers=suite.tokens.headers("send")
    )
    assert sender.status_code == 403
    anonymous = await suite.http.post(f"/v1/cases/{case_id}/status", json={"status": "PROCESSING"})
    assert anonymous.status_code == 401
    unknown = await suite.http.post(
        f"/v1/cases/{uuid.uuid4()}/status", json={"status": "PROCESSING"}, headers=intruder
    )
    assert unknown.status_code == 404


async def test_status_updates_become_events(suite: Suite, delivered: tuple[str, str]) -> None:
    destination_id, case_id = delivered
    owner = suite.tokens.headers(f"destination:{destination_id}")
    answer = await suite.http.post(
        f"/v1/cases/{case_id}/status",
        json={"status": "ACTION_REQUIRED", "note": "Bitte Nachweis"},
        headers=owner,
    )
    assert answer.status_code == 202
    wrong = await suite.http.post(f"/v1/cases/{case_id}/status", json={"status": "DONE"}, headers=owner)
    assert wrong.status_code == 422
    event = await suite.kafka.published(
        "delivery.events", lambda e: e.type.endswith("case.status_changed") and e.data["case_id"] == case_id
    )
    assert event.data["status"] == "ACTION_REQUIRED"
    assert event.data["note"] == "Bitte Nachweis"


async def test_replies_carry_hashed_attachments(suite: Suite, delivered: tuple[str, str]) -> None:
    destination_id, case_id = delivered
    owner = suite.tokens.headers(f"destination:{destination_id}")
    content = b"%PDF-1.7 Bescheid" * 100
    body = {
        "title": "Ihr Bescheid",
        "content": "Anbei der Bescheid.",
        "attachments": [
            {
                "filename": "bescheid.pdf",
                "mimeType": "application/pdf",
                "contentBase64": base64.b64encode(content).decode(),
            }
        ],
        "replyAddress": "amt@example.org",
    }
    answer = await suite.http.post(f"/v1/cases/{case_id}/replies", json=body, headers=owner)
    assert answer.status_code == 201, answer.text
    [stored] = answer.json()["attachments"]
    assert stored["size"] == len(content)
    assert stored["sha512"] == hashlib.sha512(content).hexdigest()

    event = await suite.kafka.published(
        "delivery.events", lambda e: e.type.endswith("case.reply_created") and e.data["case_id"] == case_id
    )
    assert event.data["message_id"] == answer.json()["messageId"]
    assert event.data["attachments"][0]["sha512"] == stored["sha512"]
    assert event.data["retrieval_confirmation_address"] == suite.receiver.url(destination_id)
    assert event.data["reply_address"] == "amt@example.org"


async def test_reply_limits(suite: Suite, delivered: tuple[str, str]) -> None:
    destination_id, case_id = delivered
    owner = suite.tokens.headers(f"destination:{destination_id}")

    def reply(encoded: str) -> dict[str, object]:
        return {
            "title": "t",
            "content": "c",
            "attachments": [
                {"filename": "a.bin", "mimeType": "application/octet-stream", "contentBase64": encoded}
            ],
        }

    too_big = base64.b64encode(b"x" * (suite.settings.reply_attachment_max_bytes + 1)).decode()
    answer = await suite.http.post(f"/v1/cases/{case_id}/replies", json=reply(too_big), headers=owner)
    assert answer.status_code == 413
    huge = "A" * (suite.settings.reply_max_bytes + 10)
    answer = await suite.http.post(f"/v1/cases/{case_id}/replies", json=reply(huge), headers=owner)
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    answer = await suite.http.post(f"/v1/cases/{case_id}/replies", json=reply("not base64!"), headers=owner)
    assert answer.status_code == 422
    answer = await suite.http.post(
        f"/v1/cases/{case_id}/replies", content=b"{nope", headers=owner | {"content-type": "application/json"}
    )
    assert answer.status_code == 400


async def test_a_decision_made_at_the_fit_connect_api_is_not_made_again(
    suite: Suite, delivered: tuple[str, str]
) -> None:
    """The authority accepted through submission's subscriber API; the return channel must not
    announce a second, or a contrary, decision."""
    destination_id, case_id = delivered
    owner = suite.tokens.headers(f"destination:{destination_id}")
    await suite.kafka.publish(
        CaseAccepted(
            case_id=case_id,
            submission_id=str(uuid.uuid4()),
            destination_id=destination_id,
            accepted_at=datetime.now(UTC),
        )
    )
    # Wait until the gateway has taken the event in; probing with an answer would itself decide.
    database = Database(suite.settings.database_location)
    try:

        async def recorded() -> bool:
            async with database.sessionmaker() as session:
                return await session.scalar(select(Case.decision).where(Case.id == case_id)) == "accept"

        await eventually(recorded, within=30)
    finally:
        await database.dispose()
    contrary = await suite.http.post(
        f"/v1/cases/{case_id}/acknowledgement",
        json={"decision": "reject", "problems": [{"type": "urn:x", "title": "late"}]},
        headers=owner,
    )
    assert contrary.status_code == 409
    same = await suite.http.post(
        f"/v1/cases/{case_id}/acknowledgement", json={"decision": "accept"}, headers=owner
    )
    assert same.status_code == 202

    def announced_by_gateway(e: CloudEvent) -> bool:
        return e.source != "/tests" and e.type.endswith("case.accepted") and e.data["case_id"] == case_id

    with pytest.raises(AssertionError, match="no matching event"):
        await suite.kafka.published("delivery.events", announced_by_gateway, within=3)
