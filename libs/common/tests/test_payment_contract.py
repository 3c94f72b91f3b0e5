"""The payment events and the final statuses they announce."""

from typing import get_args

from ozg_common.contracts.payment import PAYMENT_EVENTS, PaymentStatus
from ozg_common.events import CloudEvent


def test_each_final_status_has_one_event_that_names_it() -> None:
    assert set(PAYMENT_EVENTS) == set(get_args(PaymentStatus))
    for status, event_type in PAYMENT_EVENTS.items():
        event = event_type(
            case_id="case-1",
            transaction_id="t-1",
            origin_id="o",
            endpoint_id="e",
            request_id="r",
            payment_information={"status": status},
        )
        assert event.status == status
        envelope = CloudEvent.wrap(event, source="/tests")
        # The status travels in the event's type and in payment_information, not as a field of its own.
        assert envelope.type == f"de.ozg-router.payment.{status.lower()}"
        assert envelope.data == {
            "case_id": "case-1",
            "transaction_id": "t-1",
            "origin_id": "o",
            "endpoint_id": "e",
            "request_id": "r",
            "payment_information": {"status": status},
        }
