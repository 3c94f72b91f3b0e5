"""One attempt against a real receiver: what the HTTP client sends, follows, reads and refuses."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import Response
from kop_testkit import ENCRYPTION_KEY, MASTER_SECRET, Arrival, Receiver, status_answer

from ozg_kop_gateway.deliveries.sender import EXCERPT_BYTES, Job, Sender, Target
from ozg_kop_gateway.models import DeliveryKind
from ozg_kop_gateway.settings import KopGatewaySettings

PAYLOAD = {"destinationId": "d", "submissionId": "s", "caseId": "c", "service": {}, "attachments": []}


def sender(**overrides: Any) -> Sender:
    return Sender(
        KopGatewaySettings(
            signing_master_secret=MASTER_SECRET,
            secret_encryption_key=ENCRYPTION_KEY,
            allow_http=True,
            **overrides,
        )
    )


def job(receiver: Receiver, destination_id: str, url: str) -> Job:
    return Job(
        delivery_id=uuid.uuid4(),
        kind=DeliveryKind.SUBMISSION,
        destination_id=destination_id,
        case_id="c",
        submission_id="s",
        payload=PAYLOAD,
        attempt=1,
        expires_at=datetime.now(UTC) + timedelta(days=1),
        target=Target(url, "webservice", "standard-webhooks", "active"),
        secrets=receiver.secrets_of(destination_id),
    )


async def test_a_host_name_resolving_to_loopback_is_refused_on_connect(receiver: Receiver) -> None:
    destination_id = str(uuid.uuid4())
    url = receiver.url(destination_id).replace("127.0.0.1", "localhost")
    refusing, permitting = sender(), sender(allow_loopback=True)
    try:
        refused = await refusing.attempt(job(receiver, destination_id, url))
        assert refused.error is not None
        assert refused.error.startswith("refused: localhost resolves to the non-public address")
        assert not refused.reached
        assert receiver.of(destination_id) == []

        delivered = await permitting.attempt(job(receiver, destination_id, url))
        assert delivered.succeeded
        assert len(receiver.of(destination_id)) == 1
    finally:
        await refusing.aclose()
        await permitting.aclose()


@pytest.mark.parametrize(
    ("host", "refusal"),
    [
        ("127.0.0.1", "127.0.0.1 resolves to the non-public address 127.0.0.1"),
        ("[::1]", "::1 resolves to the non-public address ::1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1 resolves to the non-public address ::ffff:7f00:1"),
        ("10.20.30.40", "10.20.30.40 resolves to the non-public address 10.20.30.40"),
        ("127.1", "127.1 is not a canonical IP address"),
    ],
)
async def test_an_address_written_into_the_url_is_refused_before_sending(
    receiver: Receiver, host: str, refusal: str
) -> None:
    destination_id = str(uuid.uuid4())
    url = receiver.url(destination_id).replace("127.0.0.1", host)
    client = sender()
    try:
        refused = await client.attempt(job(receiver, destination_id, url))
        assert refused.error == f"refused: {refusal}"
        assert not refused.reached
        assert refused.status_code is None
        assert receiver.of(destination_id) == []
    finally:
        await client.aclose()


async def test_a_url_with_credentials_is_refused_even_on_loopback(receiver: Receiver) -> None:
    destination_id = str(uuid.uuid4())
    url = receiver.url(destination_id).replace("http://", "http://amt:geheim@")
    client = sender(allow_loopback=True)
    try:
        refused = await client.attempt(job(receiver, destination_id, url))
        assert refused.error == "refused: URLs with credentials are not allowed"
        assert not refused.reached
        assert receiver.of(destination_id) == []
    finally:
        await client.aclose()


async def test_a_host_that_does_not_resolve_is_refused_not_counted_as_reached(receiver: Receiver) -> None:
    destination_id = str(uuid.uuid4())
    url = receiver.url(destination_id).replace("127.0.0.1", "kop.gateway-test.invalid")  # RFC 2606
    client = sender()
    try:
        refused = await client.attempt(job(receiver, destination_id, url))
        assert refused.error is not None
        assert refused.error.startswith("refused: kop.gateway-test.invalid does not resolve")
        assert not refused.reached
        assert refused.status_code is None
    finally:
        await client.aclose()


async def test_redirects_are_not_followed_and_only_the_excerpt_is_read(receiver: Receiver) -> None:
    moved, chatty = str(uuid.uuid4()), str(uuid.uuid4())
    receiver.behaviours[moved] = status_answer(307, {"location": receiver.url(chatty)})

    async def long_answer(_: Arrival) -> Response:
        return Response(status_code=503, content="x" * 100_000, headers={"retry-after": "7"})

    receiver.behaviours[chatty] = long_answer
    client = sender(allow_loopback=True)
    try:
        redirected = await client.attempt(job(receiver, moved, receiver.url(moved)))
        assert redirected.status_code == 307
        assert not redirected.succeeded
        assert receiver.of(chatty) == []

        slow_down = await client.attempt(job(receiver, chatty, receiver.url(chatty)))
        assert slow_down.status_code == 503
        assert slow_down.excerpt == "x" * EXCERPT_BYTES
        assert slow_down.retry_after == 7
    finally:
        await client.aclose()
