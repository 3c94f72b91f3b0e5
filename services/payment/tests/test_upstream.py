"""The XBezahldienste upstream adapter against a provider of its own: outages, abandonment, late money.

The provider is another payment app whose simulated provider speaks XBezahldienste; it does not
notify, so only the payment service's periodic re-check learns outcomes (or the citizen's return).
"""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from payment_testkit import (
    ENDPOINT,
    OPENED,
    ORIGINATOR,
    EventLog,
    eventually,
    payment_request,
    payment_settings,
    serve_payment,
)
from playwright.async_api import Browser
from typer.testing import CliRunner

from ozg_cli import app as ozg
from ozg_payment.app import create_app
from ozg_payment.settings import PaymentSettings
from ozg_testing import TestTokens, serving

PATH = f"/paymenttransaction/{ORIGINATOR}/{ENDPOINT}"


class Provider:
    """A provider that can be switched off and on again at the same address."""

    def __init__(self, settings: PaymentSettings) -> None:
        self.settings = settings
        self.stack: AsyncExitStack | None = None

    async def start(self) -> None:
        self.stack = AsyncExitStack()
        await self.stack.enter_async_context(serving(create_app(self.settings), port=self.settings.port))

    async def stop(self) -> None:
        if self.stack is not None:
            await self.stack.aclose()
            self.stack = None


@pytest.fixture(scope="module")
async def provider() -> AsyncIterator[Provider]:
    settings = await payment_settings(
        "test_payment_2", kafka_enabled=False, simulated_provider_notifications=False
    )
    running = Provider(settings)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture(scope="module")
async def forwarding(provider: Provider, tokens: TestTokens) -> AsyncIterator[tuple[PaymentSettings, str]]:
    settings = await payment_settings(
        "test_payment_3",
        provider_url=provider.settings.public_base_url + "/simulated-provider",
        simulated_provider_enabled=False,
        transaction_timeout=8,
        recheck_interval=0.3,
    )
    async for url in serve_payment(settings, tokens):
        yield settings, url


@pytest.fixture(scope="module")
async def service(forwarding: tuple[PaymentSettings, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=forwarding[1], timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
async def service_events(forwarding: tuple[PaymentSettings, str]) -> AsyncIterator[EventLog]:
    settings = forwarding[0]
    log = EventLog(settings.kafka_bootstrap_servers, settings.topic_prefix + "payment.events")
    await log.start()
    yield log
    await log.stop()


async def metric(service: httpx.AsyncClient, line_start: str) -> float:
    for line in (await service.get("/metrics")).text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def read(service: httpx.AsyncClient, sender: dict[str, str], info: dict[str, Any]) -> dict[str, Any]:
    answer = await service.get(info["transactionUrl"], headers=sender)
    assert answer.status_code == 200, answer.text
    payment_information: dict[str, Any] = answer.json()["paymentInformation"]
    return payment_information


def turned_round(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The reconciliation report's entries a late provider result turned round."""
    return [entry for day in report["days"] for entry in day["entries"] if entry["kind"] == "TURNED_ROUND"]


async def test_provider_down_during_recheck(
    provider: Provider,
    service: httpx.AsyncClient,
    service_events: EventLog,
    sender: dict[str, str],
    shop: str,
) -> None:
    await provider.stop()
    body = payment_request(shop)
    refused = await service.post(PATH, json=body, headers=sender)
    assert refused.status_code == 503
    assert refused.json()["errorCode"] == "UNSPECIFIED"
    await provider.start()

    created = await service.post(PATH, json=body, headers=sender)
    assert created.status_code == 201, "nothing may have been stored while the provider was down"
    info = created.json()["paymentInformation"]
    assert info["transactionRedirectUrl"].startswith(
        provider.settings.public_base_url + "/simulated-provider/"
    )

    await provider.stop()
    errors_before = await metric(service, 'payment_provider_errors_total{operation="status"}')

    async def rechecks_failed() -> bool:
        return await metric(service, 'payment_provider_errors_total{operation="status"}') >= errors_before + 2

    await eventually(rechecks_failed, within=5)
    assert (await read(service, sender, info))["status"] == "INITIAL"
    down = await service.get(f"/status/{ORIGINATOR}/{ENDPOINT}", headers=sender)
    assert down.status_code == 503

    await provider.start()
    async with httpx.AsyncClient() as citizen:
        paid = await citizen.post(info["transactionRedirectUrl"], data={"aktion": "bezahlen"})
    assert paid.status_code == 303

    async def payed() -> bool:
        return (await read(service, sender, info))["status"] == "PAYED"

    await eventually(payed, within=6)
    _, event = await service_events.wait_for_outcome(info["transactionId"])
    assert event.type == "de.ozg-router.payment.payed"
    assert event.data["payment_information"]["paymentMethod"] == "CREDITCARD"


async def test_abandoned_checkout_fails_and_late_payment_is_raised(
    provider: Provider,
    forwarding: tuple[PaymentSettings, str],
    service: httpx.AsyncClient,
    service_events: EventLog,
    sender: dict[str, str],
    shop: str,
    browser: Browser,
    tokens: TestTokens,
) -> None:
    created = (await service.post(PATH, json=payment_request(shop), headers=sender)).json()
    info = created["paymentInformation"]
    page = await browser.new_page(locale="de-DE")
    try:
        await page.goto(info["transactionRedirectUrl"])
        await page.get_by_role("heading", name="Gebühr bezahlen").wait_for()

        async def timed_out() -> dict[str, Any] | None:
            state = await read(service, sender, info)
            return state if state["status"] == "FAILED" else None

        failed = await eventually(timed_out, within=15, interval=0.3)
        assert failed["statusDetail"].startswith("Zeitüberschreitung")
        _, event = await service_events.wait_for_outcome(info["transactionId"])
        assert event.type == "de.ozg-router.payment.failed"

        # The citizen still had the page open and pays now: the money must not be silently lost.
        await page.get_by_role("button", name="Bezahlen", exact=True).click()
        await page.wait_for_url(shop + "*")
    finally:
        await page.close()

    late = await read(service, sender, info)
    assert late["status"] == "FAILED", "final states never change"
    assert "ABGLEICH ERFORDERLICH" in late["statusDetail"]
    assert "PAYED" in late["statusDetail"]
    assert await metric(service, 'payment_late_provider_results_total{status="PAYED"}') == 1
    assert await metric(service, "payment_reconciliation_required ") == 1
    report = (await service.get("/v1/admin/reconciliation", headers=tokens.headers("admin"))).json()
    assert [(e["transactionId"], e["status"], e["providerStatus"]) for e in turned_round(report)] == [
        (info["transactionId"], "FAILED", "PAYED")
    ]
    listed = await service.get(
        "/v1/admin/transactions", params={"caseId": created["caseId"]}, headers=tokens.headers("admin")
    )
    [row] = listed.json()["transactions"]
    assert (row["status"], row["lateProviderStatus"]) == ("FAILED", "PAYED")
    assert row["lateReportedAt"] is not None
    flagged = await asyncio.to_thread(
        CliRunner().invoke,
        ozg,
        ["--token", tokens.token("admin"), "payments", "reconciliation", "--json"],
        env={"OZG_CLI_PAYMENT_URL": forwarding[1]},
    )
    assert flagged.exit_code == 0, flagged.output
    assert turned_round(json.loads(flagged.output)) == turned_round(report)
    assert service_events.types_about(info["transactionId"]) == [OPENED, "de.ozg-router.payment.failed"]
