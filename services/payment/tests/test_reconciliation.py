"""The reconciliation report: per day and Kassenzeichen, what was paid, what is overdue, and what a
late PAYED turned round; as JSON, as CSV, and through `ozg payments reconciliation`."""

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from payment_testkit import ENDPOINT, ORIGINATOR, eventually, payment_request, payment_settings, serve_payment
from typer.testing import CliRunner

from ozg_cli import app as ozg
from ozg_testing import TestTokens

PATH = f"/paymenttransaction/{ORIGINATOR}/{ENDPOINT}"
REPORT = "/v1/admin/reconciliation"
TIMEOUT = 1.0


@pytest.fixture(scope="module")
async def payment(tokens: TestTokens) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    """A payment service whose transactions time out after a second and are not re-checked, so
    only the citizen's return or the provider's notification moves them."""
    settings = await payment_settings(
        "test_payment_reconciliation", transaction_timeout=TIMEOUT, recheck_interval=3600
    )
    async for url in serve_payment(settings, tokens):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield url, http


async def open_payment(http: httpx.AsyncClient, sender: dict[str, str], shop: str) -> dict[str, Any]:
    created = await http.post(PATH, json=payment_request(shop), headers=sender)
    assert created.status_code == 201, created.text
    info: dict[str, Any] = created.json()["paymentInformation"]
    return info


async def pay_at_checkout(info: dict[str, Any]) -> None:
    async with httpx.AsyncClient() as citizen:
        paid = await citizen.post(info["transactionRedirectUrl"], data={"aktion": "bezahlen"})
    assert paid.status_code == 303


async def test_report_per_day_and_kassenzeichen(
    payment: tuple[str, httpx.AsyncClient], sender: dict[str, str], shop: str, tokens: TestTokens
) -> None:
    url, http = payment
    admin = tokens.headers("admin", subject="operator")

    async def state(info: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = (await http.get(info["transactionUrl"], headers=sender)).json()
        return answer["paymentInformation"]

    paid = await open_payment(http, sender, shop)
    await pay_at_checkout(paid)
    overdue = await open_payment(http, sender, shop)
    turned = await open_payment(http, sender, shop)
    await asyncio.sleep(TIMEOUT + 0.2)
    assert (await http.get(f"/paymenttransaction-return/{turned['transactionId']}")).status_code == 303
    assert (await state(turned))["status"] == "FAILED"
    await pay_at_checkout(turned)  # the citizen still had the page open: money after FAILED

    async def turned_round() -> bool:
        listed = await http.get("/v1/admin/transactions", params={"status": "FAILED"}, headers=admin)
        return any(row["lateProviderStatus"] == "PAYED" for row in listed.json()["transactions"])

    await eventually(turned_round)
    assert (await state(paid))["status"] == "PAYED"
    assert (await state(overdue))["status"] == "INITIAL"

    today = datetime.now(UTC).date().isoformat()
    answer = await http.get(REPORT, headers=admin)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["from"], report["to"]) == (today, today)
    [day] = report["days"]
    assert day["day"] == today
    expected = sorted(
        [
            (paid["transactionReference"], "PAYED", paid["transactionId"], "PAYED", None),
            (overdue["transactionReference"], "OVERDUE", overdue["transactionId"], "INITIAL", None),
            (turned["transactionReference"], "TURNED_ROUND", turned["transactionId"], "FAILED", "PAYED"),
        ]
    )
    assert [
        (e["kassenzeichen"], e["kind"], e["transactionId"], e["status"], e["providerStatus"])
        for e in day["entries"]
    ] == expected
    for kind in ("payed", "overdue", "turnedRound"):
        assert day[kind] == {"count": 1, "amount": 16.5}
    assert next(e for e in day["entries"] if e["kind"] == "PAYED")["paymentMethod"] == "CREDITCARD"

    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    earlier = (await http.get(REPORT, params={"from": yesterday, "to": yesterday}, headers=admin)).json()
    assert earlier["days"] == [], "nothing was paid, overdue or turned round yesterday"

    as_csv = await http.get(REPORT, params={"format": "csv"}, headers=admin)
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["day"], r["kassenzeichen"], r["kind"], r["amount"]) for r in rows] == [
        (today, kassenzeichen, kind, "16.5") for kassenzeichen, kind, *_ in expected
    ]
    negotiated = await http.get(REPORT, headers={**admin, "Accept": "text/csv"})
    assert negotiated.text == as_csv.text

    cli = CliRunner()
    env = {"OZG_CLI_PAYMENT_URL": url}
    token = ["--token", tokens.token("admin")]
    printed = await asyncio.to_thread(
        cli.invoke, ozg, [*token, "payments", "reconciliation", "--csv"], env=env
    )
    assert printed.exit_code == 0, printed.output
    assert list(csv.reader(io.StringIO(printed.output))) == list(csv.reader(io.StringIO(as_csv.text)))
    printed = await asyncio.to_thread(
        cli.invoke, ozg, [*token, "payments", "reconciliation", "--json"], env=env
    )
    assert json.loads(printed.output) == report
    printed = await asyncio.to_thread(
        cli.invoke, ozg, [*token, "payments", "reconciliation", "--from", today, "--to", today], env=env
    )
    assert "1 paid, 1 overdue, 1 turned round" in printed.output


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-12-02", "to": "2026-12-01"},
        {"from": "2026-01-01", "to": "2026-12-01"},
        {"to": "gestern"},
    ],
    ids=["from-after-to", "longer-than-a-quarter", "no-date"],
)
async def test_report_refuses_bad_ranges(
    payment: tuple[str, httpx.AsyncClient], tokens: TestTokens, params: dict[str, str]
) -> None:
    answer = await payment[1].get(REPORT, params=params, headers=tokens.headers("admin"))
    assert answer.status_code == 400, answer.text
    assert answer.json()["errorCode"] == "VALIDATION_ERROR"


async def test_report_is_for_operators_only(
    payment: tuple[str, httpx.AsyncClient], sender: dict[str, str]
) -> None:
    answer = await payment[1].get(REPORT, headers=sender)
    assert answer.status_code == 403
    assert answer.json()["errorCode"] == "FORBIDDEN"
