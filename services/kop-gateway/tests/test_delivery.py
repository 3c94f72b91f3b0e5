"""Delivery to a real HTTP receiver: envelopes, signatures, retries, dead letters, circuit breaker."""

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import uuid
from datetime import UTC, datetime

from fastapi import Response
from kop_testkit import (
    Arrival,
    Receiver,
    Suite,
    destination_event,
    eventually,
    hanging,
    ready_event,
    status_answer,
)

from ozg_common.contracts.mailbox import MailboxMessageRead
from ozg_common.contracts.submission import CitizenReplyReadyForDelivery
from ozg_common.webhooks import generate_secret
from ozg_testing import free_port, serving


async def test_standard_webhooks_delivery_carries_the_envelope(suite: Suite) -> None:
    destination_id = await suite.destination()
    event = ready_event(destination_id)
    await suite.kafka.publish(event)

    [delivery] = await suite.settled(destination_id, 1)
    [arrival] = suite.receiver.of(destination_id)
    assert arrival.delivery_id == delivery["id"]
    body = arrival.body
    assert body["type"] == "submission"
    assert body["deliveryId"] == delivery["id"]
    assert body["submissionId"] == event.submission_id
    assert body["caseId"] == event.case_id
    assert body["service"] == {"leikaKey": "99123456789012", "name": "Hundesteuer Anmeldung"}
    assert body["encryptedMetadata"] == event.encrypted_metadata
    assert body["attachments"][0]["sha512"] == "ab" * 64
    assert body["attachments"][0]["content"] == "eyJ.small.jwe.x.y"
    assert arrival.headers["webhook-signature"].startswith("v1,")

    detail = await suite.delivery(delivery["id"])
    [attempt] = detail["attempts"]
    assert attempt["statusCode"] == 200
    assert attempt["responseExcerpt"] == '{"received": true}'
    assert attempt["durationMs"] > 0

    succeeded = await suite.kafka.published(
        "delivery.events",
        lambda e: e.type.endswith("delivery.succeeded") and e.data["delivery_id"] == delivery["id"],
    )
    assert succeeded.data["case_id"] == event.case_id
    assert succeeded.data["attempts"] == 1


async def test_fit_connect_callback_mode_only_notifies(suite: Suite) -> None:
    destination_id = await suite.destination(channel="fitconnect", scheme="fit-connect")
    event = ready_event(destination_id)
    await suite.kafka.publish(event)

    await suite.settled(destination_id, 1)
    [arrival] = suite.receiver.of(destination_id)
    assert arrival.body == {
        "type": "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions",
        "submissionIds": [event.submission_id],
        "submissions": [
            {"destinationId": destination_id, "submissionId": event.submission_id, "caseId": event.case_id}
        ],
    }
    # Checked as a FIT-Connect subscriber does from the standard alone, not with the suite's own code.
    timestamp = arrival.headers["callback-timestamp"]
    assert abs(time.time() - int(timestamp)) < 300
    expected = hmac.new(
        suite.receiver.secrets_of(destination_id)[0].encode(),
        f"{timestamp}.".encode() + arrival.raw,
        hashlib.sha512,
    ).hexdigest()
    assert hmac.compare_digest(arrival.headers["callback-authentication"], expected)
    assert "encryptedMetadata" not in json.dumps(arrival.body)


async def test_delivery_succeeded_tells_a_callback_from_the_application(suite: Suite) -> None:
    callback_only = await suite.destination(channel="fitconnect", scheme="fit-connect")
    webservice = await suite.destination()
    for destination_id in (callback_only, webservice):
        await suite.kafka.publish(ready_event(destination_id))
    [notified] = await suite.settled(callback_only, 1)
    [delivered] = await suite.settled(webservice, 1)

    async def succeeded(delivery_id: str) -> dict[str, object]:
        event = await suite.kafka.published(
            "delivery.events",
            lambda e: e.type.endswith("delivery.succeeded") and e.data["delivery_id"] == delivery_id,
        )
        return event.data

    # Submission must not take a callback for "the authority has the application".
    assert (await succeeded(notified["id"]))["callback"] is True
    assert (await succeeded(delivered["id"]))["callback"] is False


async def test_webservice_signed_with_fit_connect_headers(suite: Suite) -> None:
    destination_id = await suite.destination(scheme="fit-connect")
    await suite.kafka.publish(ready_event(destination_id))
    await suite.settled(destination_id, 1)
    [arrival] = suite.receiver.of(destination_id)
    assert arrival.body["type"] == "submission"
    assert "webhook-signature" not in arrival.headers


async def test_wrong_secret_is_rejected_by_the_receiver(suite: Suite) -> None:
    destination_id = await suite.destination()
    suite.receiver.secrets[destination_id] = [generate_secret()]
    await suite.kafka.publish(ready_event(destination_id))

    await eventually(lambda: any(r.startswith(destination_id) for r in suite.receiver.rejected))
    [delivery] = await suite.deliveries(destinationId=destination_id)
    assert delivery["state"] == "pending"
    assert delivery["lastStatus"] == 401


async def test_secret_rotation_signs_with_both_during_the_overlap(suite: Suite) -> None:
    destination_id = await suite.destination()
    old, new = generate_secret(), generate_secret()
    path = f"/v1/admin/destinations/{destination_id}/webhook-secret"
    assert (await suite.http.put(path, json={"secret": old}, headers=suite.admin)).status_code == 204
    answer = await suite.http.put(path, json={"secret": new, "overlapSeconds": 3600}, headers=suite.admin)
    assert answer.status_code == 204

    suite.receiver.secrets[destination_id] = [old]  # a receiver not yet switched
    await suite.kafka.publish(ready_event(destination_id))
    await suite.settled(destination_id, 1)
    [arrival] = suite.receiver.of(destination_id)
    assert len(arrival.headers["webhook-signature"].split()) == 2

    view = (await suite.http.get(f"/v1/admin/destinations/{destination_id}", headers=suite.admin)).json()
    assert len(view["secrets"]) == 2
    assert old not in json.dumps(view)
    assert new not in json.dumps(view)

    # Rotating again without overlap retires both: only the newest signs.
    newest = generate_secret()
    answer = await suite.http.put(path, json={"secret": newest, "overlapSeconds": 0}, headers=suite.admin)
    assert answer.status_code == 204
    suite.receiver.secrets[destination_id] = [newest]
    await suite.kafka.publish(ready_event(destination_id))
    await suite.settled(destination_id, 2)
    assert len(suite.receiver.of(destination_id)[-1].headers["webhook-signature"].split()) == 1


async def test_secret_admin_refuses_bad_input(suite: Suite) -> None:
    destination_id = await suite.destination()
    path = f"/v1/admin/destinations/{destination_id}/webhook-secret"
    weak = await suite.http.put(path, json={"secret": "short"}, headers=suite.admin)
    assert weak.status_code == 422
    assert weak.headers["content-type"] == "application/problem+json"
    unknown = await suite.http.put(
        f"/v1/admin/destinations/{uuid.uuid4()}/webhook-secret",
        json={"secret": generate_secret()},
        headers=suite.admin,
    )
    assert unknown.status_code == 404
    forbidden = await suite.http.put(
        path, json={"secret": generate_secret()}, headers=suite.tokens.headers("send")
    )
    assert forbidden.status_code == 403
    assert (await suite.http.get("/v1/admin/deliveries")).status_code == 401


async def test_receiver_down_then_up_delivers_once_per_delivery(suite: Suite) -> None:
    port = free_port()
    destination_id = str(uuid.uuid4())
    url = f"http://127.0.0.1:{port}/kop/{destination_id}"
    await suite.kafka.publish(destination_event(destination_id, url))
    await suite.wait_destination(destination_id, url)
    for _ in range(3):
        await suite.kafka.publish(ready_event(destination_id))

    async def failing() -> bool:
        rows = await suite.deliveries(destinationId=destination_id)
        return len(rows) == 3 and all(r["attemptCount"] >= 1 and r["lastError"] for r in rows)

    await eventually(failing)
    late = Receiver()
    async with serving(late.app(), port=port) as base_url:
        late.base_url = base_url
        rows = await suite.settled(destination_id, 3)
    assert sorted(late.delivered[destination_id]) == sorted(r["id"] for r in rows)
    assert all(len([a for a in late.arrivals if a.delivery_id == r["id"]]) == 1 for r in rows)
    detail = await suite.delivery(rows[0]["id"])
    assert detail["attempts"][0]["error"].startswith("connection error")


async def test_failures_and_timeouts_follow_the_schedule(suite: Suite) -> None:
    destination_id = await suite.destination()
    answers = iter([status_answer(500), hanging(2.0), status_answer(503)])

    async def flaky(arrival: Arrival) -> Response | None:
        behaviour = next(answers, None)
        return await behaviour(arrival) if behaviour else None

    suite.receiver.behaviours[destination_id] = flaky
    await suite.kafka.publish(ready_event(destination_id))
    [delivery] = await suite.settled(destination_id, 1)

    attempts = (await suite.delivery(delivery["id"]))["attempts"]
    assert [a["statusCode"] for a in attempts] == [500, None, 503, 200]
    assert attempts[1]["error"] == "timeout"
    assert attempts[0]["responseExcerpt"] == "answer 500"
    starts = [datetime.fromisoformat(a["startedAt"]) for a in attempts]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    # schedule 0.3 s, 0.6 s, 1.0 s (±10 %); the timeout adds its 1 s to the second gap.
    assert 0.25 <= gaps[0] <= 0.8
    assert 1.5 <= gaps[1] <= 2.2
    assert 0.85 <= gaps[2] <= 1.6


async def test_an_answer_with_nul_bytes_is_recorded_and_retried(suite: Suite) -> None:
    # PostgreSQL text cannot hold NUL: stored as it came, such an excerpt failed the INSERT of the
    # whole batch of outcomes, on every retry, and stalled every destination's records.
    destination_id = await suite.destination()
    answers = iter([status_answer(500)])

    async def binary_error(arrival: Arrival) -> Response | None:
        if next(answers, None) is None:
            return None
        return Response(status_code=500, content=b"bad\x00gateway\x00", media_type="application/octet-stream")

    suite.receiver.behaviours[destination_id] = binary_error
    await suite.kafka.publish(ready_event(destination_id))
    [delivery] = await suite.settled(destination_id, 1)

    first, second = (await suite.delivery(delivery["id"]))["attempts"]
    assert (first["statusCode"], second["statusCode"]) == (500, 200)
    assert first["responseExcerpt"] == "bad\ufffdgateway\ufffd"


async def test_retry_after_is_honoured(suite: Suite) -> None:
    destination_id = await suite.destination()
    answers = iter([status_answer(429, {"Retry-After": "2"})])

    async def slow_down(arrival: Arrival) -> Response | None:
        behaviour = next(answers, None)
        return await behaviour(arrival) if behaviour else None

    suite.receiver.behaviours[destination_id] = slow_down
    await suite.kafka.publish(ready_event(destination_id))
    [delivery] = await suite.settled(destination_id, 1)
    first, second = (await suite.delivery(delivery["id"]))["attempts"]
    gap = datetime.fromisoformat(second["startedAt"]) - datetime.fromisoformat(first["startedAt"])
    assert gap.total_seconds() >= 2.0


async def test_dead_letter_then_replay(suite: Suite) -> None:
    destination_id = await suite.destination()
    suite.receiver.behaviours[destination_id] = status_answer(500)
    event = ready_event(destination_id)
    await suite.kafka.publish(event)

    [dead] = await suite.settled(destination_id, 1, state="dead_lettered")
    assert "retry horizon reached" in dead["lastError"]
    announced = await suite.kafka.published(
        "delivery.events",
        lambda e: e.type.endswith("delivery.dead_lettered") and e.data["delivery_id"] == dead["id"],
    )
    assert announced.data["case_id"] == event.case_id
    metrics = (await suite.http.get("/metrics")).text
    assert f'kop_deliveries_dead_lettered_total{{destination="{destination_id}"}} 1.0' in metrics

    not_dead = await suite.http.post(f"/v1/admin/deliveries/{uuid.uuid4()}/replay", headers=suite.admin)
    assert not_dead.status_code == 404

    del suite.receiver.behaviours[destination_id]
    replay = await suite.http.post(f"/v1/admin/deliveries/{dead['id']}/replay", headers=suite.admin)
    assert replay.status_code == 202
    assert replay.json()["state"] == "pending"
    await suite.settled(destination_id, 1)
    assert suite.receiver.delivered[destination_id] == [dead["id"]]
    again = await suite.http.post(f"/v1/admin/deliveries/{dead['id']}/replay", headers=suite.admin)
    assert again.status_code == 409


async def test_gone_dead_letters_at_once(suite: Suite) -> None:
    destination_id = await suite.destination()
    suite.receiver.behaviours[destination_id] = status_answer(410)
    await suite.kafka.publish(ready_event(destination_id))
    [dead] = await suite.settled(destination_id, 1, state="dead_lettered")
    assert dead["attemptCount"] == 1
    assert dead["lastError"].startswith("410 Gone")


async def test_circuit_breaker_stops_hammering_and_probes(suite: Suite) -> None:
    destination_id = await suite.destination()
    suite.receiver.behaviours[destination_id] = status_answer(503)
    for _ in range(8):
        await suite.kafka.publish(ready_event(destination_id))

    async def opened() -> bool:
        view = await suite.http.get(f"/v1/admin/destinations/{destination_id}", headers=suite.admin)
        return bool(view.json()["circuit"] == "open")

    await eventually(opened, every=0.02)
    before = len(suite.receiver.of(destination_id))
    await asyncio.sleep(1.5)
    during = len(suite.receiver.of(destination_id)) - before
    # Eight deliveries retrying every ≤ 0.6 s would make > 10 calls; an open circuit lets one probe through.
    assert during <= 2

    del suite.receiver.behaviours[destination_id]
    await suite.settled(destination_id, 8)
    view = await suite.http.get(f"/v1/admin/destinations/{destination_id}", headers=suite.admin)
    assert view.json()["circuit"] == "closed"


async def test_one_slow_destination_does_not_delay_others(suite: Suite) -> None:
    slow = await suite.destination()
    fast = await suite.destination()
    suite.receiver.behaviours[slow] = hanging(0.9)
    for _ in range(12):
        await suite.kafka.publish(ready_event(slow))
    started = time.monotonic()
    for _ in range(5):
        await suite.kafka.publish(ready_event(fast))
    await suite.settled(fast, 5)
    assert time.monotonic() - started < 1.5
    del suite.receiver.behaviours[slow]
    await suite.settled(slow, 12)


async def test_a_pending_retry_uses_the_edited_url(suite: Suite) -> None:
    destination_id = str(uuid.uuid4())
    broken = f"{suite.receiver.base_url}/nowhere/{destination_id}"
    await suite.kafka.publish(destination_event(destination_id, broken))
    await suite.wait_destination(destination_id, broken)
    await suite.kafka.publish(ready_event(destination_id))
    await eventually(lambda: suite.deliveries(destinationId=destination_id))

    async def failed_once() -> bool:
        [row] = await suite.deliveries(destinationId=destination_id)
        return bool(row["lastStatus"] == 404)

    await eventually(failed_once)
    fixed = suite.receiver.url(destination_id)
    await suite.kafka.publish(destination_event(destination_id, fixed))
    [delivery] = await suite.settled(destination_id, 1)
    urls = [a["url"] for a in (await suite.delivery(delivery["id"]))["attempts"]]
    assert urls[0] == broken
    assert urls[-1] == fixed


async def test_ssrf_targets_are_refused_without_a_request(suite: Suite) -> None:
    destination_id = str(uuid.uuid4())
    metadata_url = "http://169.254.169.254/latest/meta-data"
    await suite.kafka.publish(destination_event(destination_id, metadata_url))
    await suite.wait_destination(destination_id, metadata_url)
    await suite.kafka.publish(ready_event(destination_id))

    async def refused() -> dict[str, str] | None:
        rows = await suite.deliveries(destinationId=destination_id)
        return rows[0] if rows and rows[0]["lastError"] else None

    row = await eventually(refused)
    assert row["lastError"].startswith("refused: ")
    assert "169.254.169.254" in row["lastError"]
    [attempt, *_] = (await suite.delivery(row["id"]))["attempts"]
    assert attempt["statusCode"] is None


async def test_read_receipts_and_citizen_replies_are_delivered(suite: Suite) -> None:
    destination_id = await suite.destination()
    submitted = ready_event(destination_id)
    await suite.kafka.publish(submitted)
    await suite.settled(destination_id, 1)

    message_id = str(uuid.uuid4())
    await suite.kafka.publish(
        MailboxMessageRead(
            case_id=submitted.case_id,
            message_id=message_id,
            destination_id=destination_id,
            read_at=datetime.now(UTC),
        )
    )
    await suite.kafka.publish(
        CitizenReplyReadyForDelivery(
            case_id=submitted.case_id,
            reply_id="r-1",
            submission_id=submitted.submission_id,
            destination_id=destination_id,
            in_reply_to=message_id,
            encrypted_reply="eyJ.reply.jwe.a.b",
        )
    )
    await suite.settled(destination_id, 3)
    by_type = {a.body["type"]: a.body for a in suite.receiver.of(destination_id)}
    assert by_type["read-receipt"]["messageId"] == message_id
    assert by_type["read-receipt"]["submissionId"] == submitted.submission_id
    assert by_type["reply"]["encryptedReply"] == "eyJ.reply.jwe.a.b"
    assert by_type["reply"]["inReplyTo"] == message_id
