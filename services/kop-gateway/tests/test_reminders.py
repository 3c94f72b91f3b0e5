"""Pickup reminders: callback-mode destinations are called again, signed; webservices are not."""

from datetime import UTC, datetime, timedelta
from typing import Any

from kop_testkit import Suite, eventually, ready_event, status_answer

from ozg_common.contracts.submission import SubmissionPickupReminder, SubmissionReadyForDelivery

NEW_SUBMISSIONS = "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions"


def reminder_of(event: SubmissionReadyForDelivery, number: int = 1) -> SubmissionPickupReminder:
    forwarded_at = datetime.now(UTC) - timedelta(days=3 * number)
    return SubmissionPickupReminder(
        case_id=event.case_id,
        submission_id=event.submission_id,
        destination_id=event.destination_id,
        reminder=number,
        forwarded_at=forwarded_at,
        auto_reject_at=forwarded_at + timedelta(days=14),
    )


async def test_a_reminder_sends_the_new_submissions_callback_again(suite: Suite) -> None:
    destination_id = await suite.destination(channel="fitconnect", scheme="fit-connect")
    event = ready_event(destination_id)
    await suite.kafka.publish(event)
    [first_delivery] = await suite.settled(destination_id, 1)

    await suite.kafka.publish(reminder_of(event))
    rows = await suite.settled(destination_id, 2)
    [reminded] = [row for row in rows if row["id"] != first_delivery["id"]]
    assert reminded["submissionId"] == event.submission_id
    assert reminded["caseId"] == event.case_id
    # The receiver verifies callback-authentication (HMAC-SHA512) before it records an arrival.
    first, again = suite.receiver.of(destination_id)
    assert (
        again.body
        == first.body
        == {
            "type": NEW_SUBMISSIONS,
            "submissionIds": [event.submission_id],
            "submissions": [
                {
                    "destinationId": destination_id,
                    "submissionId": event.submission_id,
                    "caseId": event.case_id,
                }
            ],
        }
    )
    assert len(again.headers["callback-authentication"]) == 128
    assert int(again.headers["callback-timestamp"]) >= int(first.headers["callback-timestamp"])
    assert not [r for r in suite.receiver.rejected if r.startswith(destination_id)]
    succeeded = await suite.kafka.published(
        "delivery.events",
        lambda e: e.type.endswith("delivery.succeeded") and e.data["delivery_id"] == reminded["id"],
    )
    assert succeeded.data["case_id"] == event.case_id


async def test_no_reminder_while_the_first_callback_is_retried_or_for_webservices(suite: Suite) -> None:
    retried = await suite.destination(channel="fitconnect", scheme="fit-connect")
    suite.receiver.behaviours[retried] = status_answer(503)
    webservice = await suite.destination()
    for destination_id in (retried, webservice):
        event = ready_event(destination_id)
        await suite.kafka.publish(event)
        if destination_id == webservice:
            await suite.settled(webservice, 1)
        await suite.kafka.publish(reminder_of(event))
        # A later event of the same case (same partition): once it is scheduled, the reminder was seen.
        marker = ready_event(destination_id, case_id=event.case_id)
        await suite.kafka.publish(marker)

        async def both_scheduled(
            destination_id: str = destination_id, marker_id: str = marker.submission_id
        ) -> list[dict[str, Any]]:
            rows = await suite.deliveries(destinationId=destination_id)
            return rows if any(row["submissionId"] == marker_id for row in rows) else []

        rows = await eventually(both_scheduled)
        assert sorted(row["submissionId"] for row in rows) == sorted(
            [event.submission_id, marker.submission_id]
        ), "the reminder added no delivery"
