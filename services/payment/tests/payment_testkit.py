"""What the payment tests share: the catalogue they seed, Kafka helpers, a shop, a browser."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from playwright.async_api import Browser, Playwright

from ozg_common.contracts.zufi import FeeItem, ServiceChanged
from ozg_common.events import CloudEvent
from ozg_payment.app import create_app
from ozg_payment.settings import PaymentSettings
from ozg_testing import (
    TestTokens,
    free_port,
    fresh_postgres_database,
    kafka_bootstrap,
    publish_event,
    serving,
    unique_topic_prefix,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LEIKA_KEY = "99123456789001"
OTHER_LEIKA_KEY = "99123456789002"
PROVIDER_KEY = "simulated-provider-test-key"
ORIGINATOR = "online-dienst-meldewesen"
ENDPOINT = "01002000"

MELDEBESCHEINIGUNG = ServiceChanged(
    leika_key=LEIKA_KEY,
    name="Meldebescheinigung",
    level="GEMEINDE",
    payment_required=True,
    fees=[
        FeeItem(id="meldebescheinigung", description="Meldebescheinigung", price="12.50"),
        FeeItem(
            id="meldebescheinigung-kopie",
            description="Weitere Ausfertigung",
            price="2.00",
            booking_data={"haushaltsstelle": "1100.13100"},
        ),
    ],
)
HUNDESTEUER = ServiceChanged(
    leika_key=OTHER_LEIKA_KEY,
    name="Hundesteuer-Anmeldung",
    level="GEMEINDE",
    payment_required=False,
)


def payment_request(redirect_url: str, **overrides: Any) -> dict[str, Any]:
    """A valid request for one Meldebescheinigung and two copies: 12.50 + 2 × 2.00 = 16.50 EUR."""
    body: dict[str, Any] = {
        "requestId": str(uuid.uuid4()),
        "requestTimestamp": datetime.now(UTC).isoformat(),
        "currency": "EUR",
        "amount": 16.50,
        "purpose": "Meldebescheinigung",
        "description": "Gebühr für eine Meldebescheinigung mit zwei weiteren Ausfertigungen",
        "redirectUrl": redirect_url,
        "items": [
            {"id": "meldebescheinigung", "description": "Meldebescheinigung", "price": 12.50, "quantity": 1},
            {
                "id": "meldebescheinigung-kopie",
                "description": "Weitere Ausfertigung",
                "price": 2.00,
                "quantity": 2,
            },
        ],
        "caseId": str(uuid.uuid4()),
    }
    body.update(overrides)
    return body


async def transactions_of_case(client: httpx.AsyncClient, tokens: TestTokens, case_id: str) -> int:
    """How many transactions payment stored for a case (the operators' listing)."""
    admin = tokens.headers("admin", subject="operator")
    listed = await client.get("/v1/admin/transactions", params={"caseId": case_id}, headers=admin)
    total: int = listed.json()["totalCount"]
    return total


async def publish(bootstrap: str, prefix: str, *events: ServiceChanged) -> None:
    """Publish zufi's events the way zufi's outbox relay does (CloudEvents, binary mode)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            await publish_event(producer, event, source="/ozg-router/zufi", prefix=prefix)
    finally:
        await producer.stop()


OPENED = "de.ozg-router.payment.opened"


class EventLog:
    """Reads a payment.events topic from the start, for asserting what was published."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
        )
        self.events: list[tuple[bytes | None, CloudEvent]] = []
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for record in self.consumer:
            self.events.append((record.key, CloudEvent.from_kafka(record.headers, record.value or b"{}")))

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.consumer.stop()

    def types_about(self, transaction_id: str) -> list[str]:
        """The types of the transaction's events so far, in the order published."""
        return [event.type for _, event in self.events if event.data.get("transaction_id") == transaction_id]

    async def wait_for_outcome(
        self, transaction_id: str, within: float = 20
    ) -> tuple[bytes | None, CloudEvent]:
        """The transaction's final event (after its `payment.opened`), with its Kafka key."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for key, event in self.events:
                if event.data.get("transaction_id") == transaction_id and event.type != OPENED:
                    return key, event
            await asyncio.sleep(0.1)
        raise AssertionError(f"no final payment event for {transaction_id} within {within} s")


async def eventually(check: Callable[[], Any], within: float = 20, interval: float = 0.1) -> Any:
    """Poll an async `check` until it answers something truthy."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {within} s (last: {last!r})")


def shop_app() -> FastAPI:
    """The sender's online service, where the citizen lands after paying."""
    app = FastAPI()

    @app.get("/zurueck", response_class=HTMLResponse)
    async def back() -> str:
        return (
            '<!doctype html><html lang="de"><head><title>Online-Dienst</title></head>'
            "<body><h1>Zurück beim Online-Dienst</h1></body></html>"
        )

    return app


def require_chromium() -> None:
    if not CHROMIUM.exists():
        raise AssertionError(
            f"{CHROMIUM} is missing: install Debian's chromium package to run the checkout browser tests"
        )


async def launch_chromium(playwright: Playwright) -> Browser:
    require_chromium()
    return await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


async def payment_settings(database: str, **options: object) -> PaymentSettings:
    port = free_port()
    return PaymentSettings.model_validate(
        {
            "database_url": await fresh_postgres_database(database),
            "kafka_bootstrap_servers": kafka_bootstrap(),
            "topic_prefix": unique_topic_prefix(),
            "topic_partitions": 3,
            "port": port,
            "public_base_url": f"http://127.0.0.1:{port}",
            "outbox_poll_interval": 0.2,
            "simulated_provider_api_key": PROVIDER_KEY,
            "provider_api_key": PROVIDER_KEY,
            **options,
        }
    )


async def serve_payment(settings: PaymentSettings, tokens: TestTokens) -> AsyncIterator[str]:
    """Serve a payment app over real HTTP (browsers and providers reach it), its catalogue seeded."""
    app = create_app(settings)
    app.state.token_verifier = tokens.verifier()
    async with serving(app, port=settings.port) as base_url:
        if settings.kafka_enabled:
            await publish(
                settings.kafka_bootstrap_servers, settings.topic_prefix, MELDEBESCHEINIGUNG, HUNDESTEUER
            )
            async with httpx.AsyncClient(base_url=base_url, headers=tokens.headers("send")) as http:

                async def seeded() -> bool:
                    return (await http.get(f"/v1/fees/{LEIKA_KEY}")).status_code == 200

                await eventually(seeded)
        yield base_url
