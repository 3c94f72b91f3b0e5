"""Recording a batch of outcomes: only a pending delivery moves, and only a move is announced."""

import uuid
from datetime import UTC, datetime, timedelta

from kop_testkit import Suite

from ozg_kop_gateway.deliveries.sender import Job, Outcome, Target
from ozg_kop_gateway.models import Delivery, DeliveryKind, DeliveryState


def delivery(case_id: str, state: DeliveryState, attempts: int, **fields: object) -> Delivery:
    now = datetime.now(UTC)
    return Delivery(
        id=uuid.uuid4(),
        kind=DeliveryKind.SUBMISSION,
        destination_id=str(uuid.uuid4()),
        case_id=case_id,
        submission_id=str(uuid.uuid4()),
        source_event_id=str(uuid.uuid4()),
        payload={},
        state=state,
        attempt_count=attempts,
        # Claimed: its lease keeps the worker of this test run away from it.
        next_attempt_at=now + timedelta(minutes=5) if state is DeliveryState.PENDING else None,
        expires_at=now + timedelta(hours=1),
        event_time=now,
        created_at=now,
        **fields,
    )


def answered(row: Delivery, attempt: int, status: int) -> tuple[Job, Outcome]:
    url = f"https://kop.example/{row.destination_id}"
    job = Job(
        delivery_id=row.id,
        kind=DeliveryKind.SUBMISSION,
        destination_id=row.destination_id,
        case_id=row.case_id,
        submission_id=row.submission_id,
        payload={},
        attempt=attempt,
        expires_at=row.expires_at,
        target=Target(url, "webservice", "standard-webhooks", "active"),
        secrets=[],
    )
    outcome = Outcome(
        started_at=datetime.now(UTC), duration_ms=4.2, url=url, status_code=status, reached=True
    )
    return job, outcome


async def test_late_successes_in_a_batch_change_nothing_and_announce_nothing(suite: Suite) -> None:
    case_id = str(uuid.uuid4())  # one case: its events share a partition, in the order written
    delivered_at = datetime.now(UTC) - timedelta(minutes=1)
    # Re-claimed after its lease ran out, and delivered by that second attempt.
    reclaimed = delivery(case_id, DeliveryState.SUCCEEDED, 2, delivered_at=delivered_at, last_status=204)
    # Given up (and not replayed) while its last attempt was still under way.
    given_up = delivery(case_id, DeliveryState.DEAD_LETTERED, 3, last_error="retry horizon reached")
    waiting = delivery(case_id, DeliveryState.PENDING, 1)
    accepted = delivery(case_id, DeliveryState.PENDING, 1)
    async with suite.transaction() as session:
        session.add_all([reclaimed, given_up, waiting, accepted])

    batch = [
        answered(reclaimed, 1, 200),
        answered(given_up, 3, 200),
        answered(waiting, 1, 200),
        answered(waiting, 1, 200),  # the same answer twice: settled once
        answered(accepted, 1, 202),
    ]
    async with suite.transaction() as session:
        await suite.gateway.deliveries.record_many(session, batch)

    events = await suite.kafka.published_until(
        "delivery.events", lambda e: e.data.get("delivery_id") == str(accepted.id)
    )
    announced = [
        e.data["delivery_id"]
        for e in events
        if e.data.get("case_id") == case_id and e.type.endswith("delivery.succeeded")
    ]
    assert announced == [str(waiting.id), str(accepted.id)]

    late = await suite.delivery(str(reclaimed.id))
    assert (late["state"], late["attemptCount"], late["lastStatus"]) == ("succeeded", 2, 204)
    assert datetime.fromisoformat(late["deliveredAt"]) == delivered_at
    assert [a["statusCode"] for a in late["attempts"]] == [200]  # the late attempt is on record
    dead = await suite.delivery(str(given_up.id))
    assert (dead["state"], dead["lastError"]) == ("dead_lettered", "retry horizon reached")
    for row, status in ((waiting, 200), (accepted, 202)):
        moved = await suite.delivery(str(row.id))
        assert (moved["state"], moved["lastStatus"], moved["nextAttemptAt"]) == ("succeeded", status, None)
