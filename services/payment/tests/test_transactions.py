"""The XBezahldienste API: validation limits, fee checks, idempotency and server-side confirmation."""

import asyncio
import re
import uuid
from typing import Any

import httpx
import pytest
from payment_testkit import ENDPOINT, OPENED, ORIGINATOR, EventLog, payment_request, transactions_of_case

from ozg_testing import TestTokens

PATH = f"/paymenttransaction/{ORIGINATOR}/{ENDPOINT}"
FUNCTIONAL_TEXT = r"[\w\s,.\u00C0-\u017F-]+"
"""The standard's functionalText pattern (its `\\s-,` read as the three signs, as Python needs)."""
TITLE = r"[\w\s.-]+"


def assert_problem(answer: httpx.Response, status: int, error_code: str) -> dict[str, Any]:
    """The XBezahldienste error body: a problem naming the code, explained in functionalText."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == status
    assert problem["errorCode"] == error_code
    assert re.fullmatch(FUNCTIONAL_TEXT, problem["functionalText"]), problem["functionalText"]
    assert len(problem["functionalText"]) <= 2000
    assert re.fullmatch(TITLE, problem["title"]), problem["title"]
    assert "errorMessage" not in problem
    return problem


def item(**overrides: Any) -> dict[str, Any]:
    return {"id": "meldebescheinigung", "description": "Meldebescheinigung", "price": 12.50, **overrides}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"requestId": "x" * 37}, "requestId"),
        ({"requestId": ""}, "requestId"),
        ({"requestId": "antrag.4711"}, "requestId"),
        ({"requestId": "antrag:4711"}, "requestId"),
        ({"purpose": "P" * 28}, "purpose"),
        ({"purpose": "Gebühr!"}, "purpose"),
        ({"description": "d" * 251}, "description"),
        ({"description": "<script>"}, "description"),
        ({"items": []}, "items"),
        ({"items": [item(id=f"i{n}") for n in range(100)], "amount": 1250.00}, "items"),
        ({"items": [item(id="i" * 37)], "amount": 12.50}, "items.0.id"),
        ({"items": [item(id="gebuehr.1")], "amount": 12.50}, "items.0.id"),
        ({"items": [item(description="d" * 251)], "amount": 12.50}, "items.0.description"),
        ({"items": [item(price=0)], "amount": 12.50}, "items.0.price"),
        ({"items": [item(price=-12.50)], "amount": 12.50}, "items.0.price"),
        ({"items": [item(price=12.505)], "amount": 12.50}, "items.0.price"),
        ({"items": [item(quantity=0)], "amount": 12.50}, "items.0.quantity"),
        ({"items": [item(taxRate=100.01)], "amount": 12.50}, "items.0.taxRate"),
        ({"requestTimestamp": "gestern"}, "requestTimestamp"),
        ({"currency": "USD"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"amount": 1000000.00}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": -16.50}, "amount"),
        ({"amount": 16.505}, "amount"),
        ({"redirectUrl": "javascript:alert(1)"}, "redirectUrl"),
        ({"redirectUrl": "ftp://example.org/zurueck"}, "redirectUrl"),
        ({"redirectUrl": "https://example.org/" + "a" * 2070}, "redirectUrl"),
        ({"leikaKey": "12345"}, "leikaKey"),
    ],
)
async def test_validation_limits(
    client: httpx.AsyncClient,
    sender: dict[str, str],
    shop: str,
    tokens: TestTokens,
    overrides: dict[str, Any],
    field: str,
) -> None:
    body = payment_request(shop, **overrides)
    answer = await client.post(PATH, json=body, headers=sender)
    problem = assert_problem(answer, 400, "VALIDATION_ERROR")
    assert any(param["name"].startswith(field) for param in problem["invalid_params"]), problem
    assert field.split(".")[0] in problem["functionalText"]
    assert await transactions_of_case(client, tokens, body["caseId"]) == 0, "nothing may be stored"


async def test_limits_themselves_are_accepted(
    client: httpx.AsyncClient, sender: dict[str, str], shop: str
) -> None:
    body = payment_request(
        shop,
        requestId="r_" + "7" * 33 + "-",
        purpose="Gebühr Meldebescheinigung 1",
        description="Gebühr für die Meldebescheinigung, 2 Kopien - Amt Achterwehr. " + "d" * 188,
    )
    assert (len(body["requestId"]), len(body["purpose"]), len(body["description"])) == (36, 27, 250)
    answer = await client.post(PATH, json=body, headers=sender)
    assert answer.status_code == 201, answer.text


async def test_ninety_nine_items_are_accepted(
    client: httpx.AsyncClient, sender: dict[str, str], shop: str
) -> None:
    copies = {"id": "meldebescheinigung-kopie", "description": "Weitere Ausfertigung", "price": 2.00}
    body = payment_request(shop, items=[item(), copies], amount=12.50 + 2.00 * 98)
    body["items"][1]["quantity"] = 98
    assert (await client.post(PATH, json=body, headers=sender)).status_code == 201
    ninety_nine = payment_request(
        shop, items=[item(id=f"gebuehr-{n}", price=1.00) for n in range(99)], amount=99
    )
    problem = assert_problem(
        await client.post(PATH, json=ninety_nine, headers=sender), 400, "CALCULATION_ERROR"
    )
    assert "invalid_params" not in problem, "99 items are within the standard; only the fee is wrong"


async def test_malformed_json_is_a_bad_request(client: httpx.AsyncClient, sender: dict[str, str]) -> None:
    answer = await client.post(
        PATH, content=b'{"requestId": ', headers={**sender, "content-type": "application/json"}
    )
    problem = assert_problem(answer, 400, "VALIDATION_ERROR")
    assert problem["functionalText"] == "The request body is not valid JSON."


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": 15.50},
        {"items": [item(price=10.00)], "amount": 10.00},
        {"items": [item(id="hundesteuer")], "amount": 12.50},
        {"items": [item()], "amount": 12.50, "leikaKey": "99123456789002"},
    ],
    ids=["amount-not-the-sum", "price-not-the-fee", "item-of-no-service", "service-charges-nothing"],
)
async def test_amount_must_be_the_catalogue_fee(
    client: httpx.AsyncClient,
    sender: dict[str, str],
    shop: str,
    tokens: TestTokens,
    overrides: dict[str, Any],
) -> None:
    body = payment_request(shop, **overrides)
    assert_problem(await client.post(PATH, json=body, headers=sender), 400, "CALCULATION_ERROR")
    assert await transactions_of_case(client, tokens, body["caseId"]) == 0, "nothing may be stored"


async def test_service_named_by_leika_key(
    client: httpx.AsyncClient, sender: dict[str, str], shop: str
) -> None:
    body = payment_request(shop, leikaKey="99123456789001", items=[item()], amount=12.5)
    answer = await client.post(PATH, json=body, headers=sender)
    assert answer.status_code == 201, answer.text
    unknown = payment_request(shop, leikaKey="99000000000000", items=[item()], amount=12.5)
    assert_problem(await client.post(PATH, json=unknown, headers=sender), 404, "UNSPECIFIED")


async def test_booking_data_the_catalogue_defines_must_stay(
    client: httpx.AsyncClient, sender: dict[str, str], shop: str
) -> None:
    copy = {"id": "meldebescheinigung-kopie", "description": "Kopie", "price": 2.0, "bookingData": {"x": "1"}}
    body = payment_request(shop, items=[item(), copy], amount=14.5)
    assert_problem(await client.post(PATH, json=body, headers=sender), 400, "BOOKING_DATA_MISSING")


async def test_reused_request_id_is_payment_exists(
    client: httpx.AsyncClient, sender: dict[str, str], shop: str, tokens: TestTokens
) -> None:
    body = payment_request(shop)
    first = await client.post(PATH, json=body, headers=sender)
    assert first.status_code == 201
    info = first.json()["paymentInformation"]

    retry = await client.post(PATH, json={**body, "requestTimestamp": "2030-01-01T00:00:00Z"}, headers=sender)
    problem = assert_problem(retry, 400, "PAYMENT_EXISTS")
    assert "the same request" in problem["functionalText"]
    assert problem["transactionId"] == info["transactionId"]
    assert retry.headers["location"] == first.headers["location"] == info["transactionUrl"]

    changed = await client.post(PATH, json={**body, "purpose": "Etwas anderes"}, headers=sender)
    problem = assert_problem(changed, 400, "PAYMENT_EXISTS")
    assert "another request body" in problem["functionalText"]
    assert problem["transactionId"] == info["transactionId"]

    other_sender = tokens.headers("send", subject="another-online-service")
    foreign = assert_problem(await client.post(PATH, json=body, headers=other_sender), 400, "PAYMENT_EXISTS")
    assert "transactionId" not in foreign, "another client learns nothing about the transaction"
    assert await transactions_of_case(client, tokens, body["caseId"]) == 1


async def test_the_same_request_id_at_once_is_charged_once(
    client: httpx.AsyncClient, sender: dict[str, str], shop: str, tokens: TestTokens
) -> None:
    body = payment_request(shop)
    answers = await asyncio.gather(*(client.post(PATH, json=body, headers=sender) for _ in range(4)))
    assert sorted(answer.status_code for answer in answers) == [201, 400, 400, 400]
    [created] = [answer for answer in answers if answer.status_code == 201]
    for answer in answers:
        if answer.status_code == 400:
            problem = assert_problem(answer, 400, "PAYMENT_EXISTS")
            assert problem["transactionId"] == created.json()["paymentInformation"]["transactionId"]
    assert await transactions_of_case(client, tokens, body["caseId"]) == 1


async def test_forged_redirect_result_is_not_believed(
    client: httpx.AsyncClient, sender: dict[str, str], shop: str, events: EventLog
) -> None:
    info = (await client.post(PATH, json=payment_request(shop), headers=sender)).json()["paymentInformation"]
    transaction_id = info["transactionId"]

    back = await client.get(f"/paymenttransaction-return/{transaction_id}?status=PAYED&paymentMethod=PAYPAL")
    assert back.status_code == 303
    assert back.headers["location"] == shop
    forged = await client.post(f"/provider-notifications/{transaction_id}", json={"status": "PAYED"})
    assert forged.status_code == 204

    still = (await client.get(info["transactionUrl"], headers=sender)).json()["paymentInformation"]
    assert still["status"] == "INITIAL"
    assert still["transactionRedirectUrl"] == info["transactionRedirectUrl"]
    assert events.types_about(transaction_id) in ([], [OPENED]), "nothing published but its opening"


async def test_callers_need_a_sender_token_and_see_only_their_transactions(
    client: httpx.AsyncClient, sender: dict[str, str], shop: str, tokens: TestTokens
) -> None:
    body = payment_request(shop)
    assert_problem(await client.post(PATH, json=body), 401, "FORBIDDEN")
    citizen = tokens.headers("citizen", subject="someone")
    assert_problem(await client.post(PATH, json=body, headers=citizen), 403, "FORBIDDEN")

    info = (await client.post(PATH, json=body, headers=sender)).json()["paymentInformation"]
    other_sender = tokens.headers("send", subject="another-online-service")
    assert_problem(await client.get(info["transactionUrl"], headers=other_sender), 403, "FORBIDDEN")
    admin = tokens.headers("admin", subject="operator")
    assert (await client.get(info["transactionUrl"], headers=admin)).status_code == 200

    elsewhere = f"/paymenttransaction/{ORIGINATOR}/09999999/{info['transactionId']}"
    assert_problem(await client.get(elsewhere, headers=sender), 404, "NO_VALID_ORIGINATOR_OR_ENDPOINT")
    unknown = f"{PATH}/{uuid.uuid4()}"
    assert_problem(await client.get(unknown, headers=sender), 404, "NO_VALID_ORIGINATOR_OR_ENDPOINT")


async def test_ill_formed_originator_is_no_valid_originator(
    client: httpx.AsyncClient, sender: dict[str, str], shop: str
) -> None:
    for originator, endpoint in [
        ("o" * 37, ENDPOINT),
        ("dienst.meldewesen", ENDPOINT),
        (ORIGINATOR, "01:002"),
    ]:
        answer = await client.post(
            f"/paymenttransaction/{originator}/{endpoint}", json=payment_request(shop), headers=sender
        )
        assert_problem(answer, 400, "NO_VALID_ORIGINATOR_OR_ENDPOINT")
    longest = await client.post(
        f"/paymenttransaction/{'o' * 36}/{ENDPOINT}", json=payment_request(shop), headers=sender
    )
    assert longest.status_code == 201, longest.text


async def test_provider_status(client: httpx.AsyncClient, sender: dict[str, str]) -> None:
    answer = await client.get(f"/status/{ORIGINATOR}/{ENDPOINT}", headers=sender)
    assert answer.status_code == 200
    assert answer.json() == {"status": "UP"}
