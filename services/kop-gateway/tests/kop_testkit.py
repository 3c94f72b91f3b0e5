"""Test kit: a real HTTP receiver (a municipality's KOP endpoint) that verifies every signature with
`ozg_common.webhooks`, event builders, and the `Suite` the tests drive the gateway through."""

import asyncio
import base64
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.contracts.submission import AttachmentRef, SubmissionReadyForDelivery
from ozg_common.contracts.zufi import DestinationChanged, Zustellkanal
from ozg_common.db import Database
from ozg_common.events import CloudEvent, Event
from ozg_common.webhooks import (
    WebhookVerificationError,
    derive_destination_secret,
    verify_fit_connect_callback,
    verify_standard_webhook,
)
from ozg_kop_gateway.settings import KopGatewaySettings
from ozg_kop_gateway.state import GatewayState
from ozg_testing import (
    TestTokens,
    kafka_bootstrap,
    publish_event,
)

MASTER_SECRET = "kop-gateway-tests-master-secret-0123456789"
ENCRYPTION_KEY = base64.b64encode(b"k" * 32).decode()

FAST = {
    "retry_schedule": [0.3, 0.6, 1.0],
    "retry_interval": 1.0,
    "retry_horizon": 4.0,
    "retry_jitter": 0.1,
    "request_timeout": 1.0,
    "claim_lease": 2.5,
    "poll_interval": 0.1,
    "claim_debounce": 0.01,
    "breaker_failure_threshold": 3,
    "breaker_cooldown": 1.0,
    "destination_concurrency": 4,
    "allow_loopback": True,
    "allow_http": True,
    "signing_master_secret": MASTER_SECRET,
    "secret_encryption_key": ENCRYPTION_KEY,
    "reply_attachment_max_bytes": 64 * 1024,
    "reply_max_bytes": 256 * 1024,
}
"""The retry schedule and limits the tests run with (the defaults take minutes to days)."""


@dataclass
class Arrival:
    """One request the receiver got."""

    destination_id: str
    delivery_id: str | None
    body: dict[str, Any]
    headers: dict[str, str]
    at: float
    raw: bytes
    """The body as it came over the wire (what the signature covers)."""


Behaviour = Callable[[Arrival], Awaitable[Response | None]]
"""Decides the receiver's answer for a destination; None means 200."""


@dataclass
class Receiver:
    """A municipality's endpoint: verifies signatures, records arrivals, answers as told."""

    base_url: str = ""
    schemes: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, list[str]] = field(default_factory=dict)
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    arrivals: list[Arrival] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    delivered: dict[str, list[str]] = field(default_factory=dict)
    """Delivery ids answered 2xx, per destination, deduplicated as a real receiver would."""

    def url(self, destination_id: str) -> str:
        return f"{self.base_url}/kop/{destination_id}"

    def secrets_of(self, destination_id: str) -> list[str]:
        return self.secrets.get(destination_id) or [derive_destination_secret(MASTER_SECRET, destination_id)]

    def of(self, destination_id: str) -> list[Arrival]:
        return [a for a in self.arrivals if a.destination_id == destination_id]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/kop/{destination_id}")
        async def kop(destination_id: str, request: Request) -> Response:
            body = await request.body()
            headers = dict(request.headers)
            try:
                if self.schemes.get(destination_id, "standard-webhooks") == "fit-connect":
                    verify_fit_connect_callback(self.secrets_of(destination_id), headers, body)
                    delivery_id = None
                else:
                    delivery_id = verify_standard_webhook(self.secrets_of(destination_id), headers, body)
            except WebhookVerificationError as exc:
                self.rejected.append(f"{destination_id}: {exc}")
                return Response(status_code=401, content=str(exc))
            document = json.loads(body)
            arrival = Arrival(destination_id, delivery_id, document, headers, time.monotonic(), body)
            self.arrivals.append(arrival)
            behaviour = self.behaviours.get(destination_id)
            answer = await behaviour(arrival) if behaviour else None
            if answer is None:
                answer = Response(
                    status_code=200, content='{"received": true}', media_type="application/json"
                )
            if 200 <= answer.status_code < 300:
                key = delivery_id or json.dumps(document.get("submissions"))
                seen = self.delivered.setdefault(destination_id, [])
                if key not in seen:
                    seen.append(key)
            return answer

        return app


def status_answer(code: int, headers: dict[str, str] | None = None) -> Behaviour:
    async def answer(_: Arrival) -> Response:
        return Response(status_code=code, content=f"answer {code}", headers=headers)

    return answer


def hanging(seconds: float) -> Behaviour:
    async def answer(_: Arrival) -> Response | None:
        await asyncio.sleep(seconds)
        return None

    return answer


async def eventually(check: Callable[[], Any], *, within: float = 15.0, every: float = 0.1) -> Any:
    """Poll `check` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(every)


class Kafka:
    """Publishes the events kop-gateway consumes, and reads what it published."""

    def __init__(self, producer: AIOKafkaProducer, prefix: str) -> None:
        self.producer = producer
        self.prefix = prefix

    async def publish(self, event: Event) -> CloudEvent:
        return await publish_event(self.producer, event, source="/tests", prefix=self.prefix)

    async def published(
        self, topic: str, predicate: Callable[[CloudEvent], bool], *, within: float = 15.0
    ) -> CloudEvent:
        return (await self.published_until(topic, predicate, within=within))[-1]

    async def published_until(
        self, topic: str, predicate: Callable[[CloudEvent], bool], *, within: float = 15.0
    ) -> list[CloudEvent]:
        """Every event on `topic` up to and including the first one matching `predicate`."""
        seen: list[CloudEvent] = []
        consumer = AIOKafkaConsumer(
            self.prefix + topic,
            bootstrap_servers=kafka_bootstrap(),
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        await consumer.start()
        try:
            deadline = time.monotonic() + within
            while time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=300)
                for records in batches.values():
                    for record in records:
                        envelope = CloudEvent.from_kafka(record.headers, record.value or b"{}")
                        seen.append(envelope)
                        if predicate(envelope):
                            return seen
            raise AssertionError(f"no matching event on {topic}")
        finally:
            await consumer.stop()


def destination_event(
    destination_id: str,
    url: str | None,
    *,
    channel: str = "webservice",
    scheme: str = "standard-webhooks",
    status: str = "active",
) -> DestinationChanged:
    return DestinationChanged(
        destination_id=destination_id,
        status=status,  # type: ignore[arg-type]
        name=f"Amt {destination_id[:8]}",
        authority_id="auth-" + destination_id[:8],
        zustellkanal=Zustellkanal(channel_type=channel, url=url, signature_scheme=scheme),  # type: ignore[arg-type]
        encryption_kid="kid-1",
        encryption_key={"kty": "RSA", "kid": "kid-1", "n": "AQAB", "e": "AQAB"},
        services=["99123456789012"],
    )


def ready_event(destination_id: str, *, case_id: str | None = None) -> SubmissionReadyForDelivery:
    submission_id, attachment_id = str(uuid.uuid4()), str(uuid.uuid4())
    return SubmissionReadyForDelivery(
        case_id=case_id or str(uuid.uuid4()),
        submission_id=submission_id,
        destination_id=destination_id,
        leika_key="99123456789012",
        service_name="Hundesteuer Anmeldung",
        encrypted_metadata="eyJhbGciOiJSU0EtT0FFUC0yNTYifQ.a.b.c.d",
        encrypted_data="eyJhbGciOiJSU0EtT0FFUC0yNTYifQ.e.f.g.h",
        attachments=[
            AttachmentRef(
                attachment_id=attachment_id,
                size=42,
                sha512="ab" * 64,
                download_url=f"http://127.0.0.1:8002/v1/submissions/{submission_id}/attachments/x",
                content="eyJ.small.jwe.x.y",
            )
        ],
        # The fifth segments of the JWEs above, as submission states them in submit-submission.
        authentication_tags={"metadata": "d", "data": "h", "attachments": {attachment_id: "y"}},
    )


@dataclass
class Suite:
    """The running gateway and everything a test talks to."""

    http: httpx.AsyncClient
    kafka: Kafka
    receiver: Receiver
    tokens: TestTokens
    settings: KopGatewaySettings
    app: FastAPI

    @property
    def gateway(self) -> GatewayState:
        gateway: GatewayState = self.app.state.gateway
        return gateway

    def transaction(self) -> contextlib.AbstractAsyncContextManager[AsyncSession]:
        """A transaction on the gateway's own database, as its worker opens one."""
        database: Database = self.app.state.database
        return database.transaction()

    @property
    def admin(self) -> dict[str, str]:
        return self.tokens.headers("admin")

    async def destination(self, url: str | None = None, **options: Any) -> str:
        """A new destination known to the gateway (its zufi event consumed)."""
        destination_id = str(uuid.uuid4())
        self.receiver.schemes[destination_id] = options.get("scheme", "standard-webhooks")
        await self.kafka.publish(
            destination_event(destination_id, url or self.receiver.url(destination_id), **options)
        )
        await self.wait_destination(destination_id, url or self.receiver.url(destination_id))
        return destination_id

    async def wait_destination(self, destination_id: str, url: str | None) -> None:
        async def known() -> bool:
            answer = await self.http.get(f"/v1/admin/destinations/{destination_id}", headers=self.admin)
            return answer.status_code == 200 and answer.json()["url"] == url

        await eventually(known)

    async def deliveries(self, **query: str) -> list[dict[str, Any]]:
        answer = await self.http.get("/v1/admin/deliveries", params=query, headers=self.admin)
        assert answer.status_code == 200, answer.text
        result: list[dict[str, Any]] = answer.json()["deliveries"]
        return result

    async def delivery(self, delivery_id: str) -> dict[str, Any]:
        answer = await self.http.get(f"/v1/admin/deliveries/{delivery_id}", headers=self.admin)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def settled(
        self, destination_id: str, count: int, state: str = "succeeded"
    ) -> list[dict[str, Any]]:
        """Wait until `count` deliveries of the destination are in `state`."""

        async def done() -> list[dict[str, Any]] | None:
            rows = await self.deliveries(destinationId=destination_id, state=state)
            return rows if len(rows) >= count else None

        result: list[dict[str, Any]] = await eventually(done)
        return result
