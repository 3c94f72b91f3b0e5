"""The operators' view of payment transactions: filtered, paged, and only for admins."""

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from payment_testkit import ENDPOINT, ORIGINATOR, eventually, payment_request
from typer.testing import CliRunner

from ozg_cli import app as ozg
from ozg_cli.app import console
from ozg_testing import TestTokens

PATH = f"/paymenttransaction/{ORIGINATOR}/{ENDPOINT}"
ADMIN_PATH = "/v1/admin/transactions"


async def open_payments(
    client: httpx.AsyncClient, sender: dict[str, str], shop: str, case_id: str, count: int
) -> list[dict[str, Any]]:
    opened = []
    for _ in range(count):
        answer = await client.post(PATH, json=payment_request(shop, caseId=case_id), headers=sender)
        assert answer.status_code == 201, answer.text
        opened.append(answer.json())
    return opened


async def test_transactions_of_a_case_newest_first_and_paged(
    client: httpx.AsyncClient, sender: dict[str, str], shop: str, tokens: TestTokens
) -> None:
    admin = tokens.headers("admin", subject="operator")
    case_id = str(uuid.uuid4())
    opened = await open_payments(client, sender, shop, case_id, 3)
    await open_payments(client, sender, shop, str(uuid.uuid4()), 1)

    answer = await client.get(ADMIN_PATH, params={"caseId": case_id}, headers=admin)
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert (page["count"], page["offset"], page["totalCount"]) == (3, 0, 3)
    newest = opened[-1]
    row = page["transactions"][0]
    assert row == {
        "paymentMethod": None,
        "statusDetail": None,
        **newest["paymentInformation"],
        "caseId": case_id,
        "originatorId": ORIGINATOR,
        "endPointId": ENDPOINT,
        "requestId": newest["requestId"],
        "leikaKey": "99123456789001",
        "amount": 16.5,
        "createdAt": row["createdAt"],
        "lateProviderStatus": None,
        "lateReportedAt": None,
    }
    assert [r["transactionId"] for r in page["transactions"]] == [
        o["paymentInformation"]["transactionId"] for o in reversed(opened)
    ]

    second = (
        await client.get(ADMIN_PATH, params={"caseId": case_id, "offset": 1, "limit": 1}, headers=admin)
    ).json()
    assert (second["count"], second["offset"], second["totalCount"]) == (1, 1, 3)
    assert second["transactions"][0]["transactionId"] == page["transactions"][1]["transactionId"]

    everything = (await client.get(ADMIN_PATH, params={"limit": 2}, headers=admin)).json()
    assert everything["count"] == 2
    assert everything["totalCount"] >= 4


async def test_filter_by_status(
    client: httpx.AsyncClient, sender: dict[str, str], shop: str, tokens: TestTokens
) -> None:
    admin = tokens.headers("admin", subject="operator")
    case_id = str(uuid.uuid4())
    paid, pending = await open_payments(client, sender, shop, case_id, 2)
    async with httpx.AsyncClient() as citizen:
        back = await citizen.post(
            paid["paymentInformation"]["transactionRedirectUrl"], data={"aktion": "bezahlen"}
        )
    assert back.status_code == 303

    async def payed() -> list[dict[str, Any]]:
        params = {"caseId": case_id, "status": "PAYED"}
        rows: list[dict[str, Any]] = (await client.get(ADMIN_PATH, params=params, headers=admin)).json()[
            "transactions"
        ]
        return rows

    [row] = await eventually(payed)
    assert row["transactionId"] == paid["paymentInformation"]["transactionId"]
    assert row["paymentMethod"]
    assert "transactionRedirectUrl" not in row or row["transactionRedirectUrl"] is None
    initial = (
        await client.get(ADMIN_PATH, params={"caseId": case_id, "status": "INITIAL"}, headers=admin)
    ).json()
    assert [r["transactionId"] for r in initial["transactions"]] == [
        pending["paymentInformation"]["transactionId"]
    ]


async def test_only_admins_list_and_bad_parameters_are_problems(
    client: httpx.AsyncClient, sender: dict[str, str], tokens: TestTokens
) -> None:
    missing = await client.get(ADMIN_PATH)
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    for headers in (sender, tokens.headers("citizen", subject="someone")):
        refused = await client.get(ADMIN_PATH, headers=headers)
        assert refused.status_code == 403
        assert refused.json()["errorCode"] == "FORBIDDEN"

    admin = tokens.headers("admin", subject="operator")
    for params in ({"status": "PAID"}, {"limit": 0}, {"limit": 501}, {"offset": -1}, {"caseId": ""}):
        bad = await client.get(ADMIN_PATH, params=params, headers=admin)
        assert bad.status_code in (400, 422), (params, bad.text)
        assert bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["errorCode"] == "VALIDATION_ERROR"
    unknown = await client.get(ADMIN_PATH, params={"caseId": str(uuid.uuid4())}, headers=admin)
    assert unknown.json() == {"count": 0, "offset": 0, "totalCount": 0, "transactions": []}


async def test_operators_list_a_cases_payments_with_the_cli(
    client: httpx.AsyncClient,
    base_url: str,
    sender: dict[str, str],
    shop: str,
    tokens: TestTokens,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(console, "width", 200)  # an operator's terminal, not the runner's 80 columns
    case_id = str(uuid.uuid4())
    opened = await open_payments(client, sender, shop, case_id, 2)
    operator = ["--token", tokens.token("admin", subject="operator")]
    env = {"OZG_CLI_PAYMENT_URL": base_url}

    listed = await asyncio.to_thread(
        CliRunner().invoke, ozg, [*operator, "payments", "list", "--case", case_id, "--json"], env=env
    )
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(chunk) for chunk in listed.output.replace("}\n{", "}\x00{").split("\x00")]
    assert {row["transactionId"] for row in rows} == {
        o["paymentInformation"]["transactionId"] for o in opened
    }

    table = await asyncio.to_thread(
        CliRunner().invoke,
        ozg,
        [*operator, "payments", "list", "--case", case_id, "--status", "initial"],
        env=env,
    )
    assert table.exit_code == 0, table.output
    assert "2 payment transactions" in table.output
    assert opened[0]["paymentInformation"]["transactionReference"] in table.output

    refused = await asyncio.to_thread(
        CliRunner().invoke, ozg, ["--token", tokens.token("send"), "payments", "list"], env=env
    )
    assert refused.exit_code == 1
    assert "403" in refused.output
