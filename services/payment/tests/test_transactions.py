"""The XBezahldienste API: validation limits, fee checks, idempotency and server-side confirmation."""

import uuid
from typing import Any

import httpx
import pytest
from payment_testkit import ENDPOINT, ORIGINATOR, EventLog, payment_request

from ozg_testing import TestTokens

PATH = f"/paymenttransaction/{ORIGINATOR}/{ENDPOINT}"


def assert_problem(answer: httpx.Response, status: int, error_code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == status
    assert problem["errorCode"] == error_code
    return problem


def item(**overrides: Any) -> dict[str, Any]:
    return {"id": "meldebescheinigung", "description": "Meldebescheinigung", "price": 12.50, **overrides}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"requestId": "x" * 37}, "requestId"),
        ({"purpose": "P" * 28}, "purpose"),
        ({"description": "d" * 251}, "description"),
        ({"items": []}, "items"),
        ({"items": [item(id=f"i{n}") for n in range(100)], "amount": 1250.00}, "items"),
        ({"currency": "USD"}, "currency"),
        ({"amount": 1000000.00}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": 16.505}, "amount"),
        ({"redirectUrl": "javascript:alert(1)"}, "redirectUrl"),
        ({"redirectUrl": "https://example.org/" + "a" * 2070}, "redirectUrl"),
        ({"leikaKey": "12345"}, "leikaKey"),
    ],
)
async def test_validation_limits(
    client: httpx.AsyncClient, sender: dict[str, str], shop: str, overrides: dict[str, Any], field: str
) -> None:
    answer = await client.post(PATH, json=payment_request(shop, **overrides), headers=sender)
    problem = assert_problem(answer, 422, "VALIDATION_ERROR")
    assert any(param["name"].startswith(field) for param in problem["invalid_params"]), problem


async def test_limits_themselves_are_accepted(
    client: httpx.AsyncClient, sender: dict[str, str], shop: str
) -> None:
    body = payment_request(shop, requestId="r" * 36, purpose="P" * 27, description="d" * 250)
    answer = await client.post(PATH, json=body, headers=sender)
    assert answer.status_code == 201, answer.text


async def test_malformed_json_is_a_bad_request(client: httpx.AsyncClient, sender: dict[str, str]) -> None:
    answer = await client.post(
        PATH, content=b'{"requestId": ', headers={**sender, "content-type": "application/json"}
    )
    assert_problem(answer, 400, "VALIDATION_ERROR")


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
    client: httpx.AsyncClient, sender: dict[str, str], shop: str, overrides: dict[str, Any]
) -> None:
    answer = await client.post(PATH, json=payment_request(shop, **overrides), headers=sender)
    assert_problem(answer, 422, "CALCULATION_ERROR")


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
    assert_problem(await client.post(PATH, json=body, headers=sender), 422, "BOOKING_DATA_MISSING")


async def test_same_request_again_answers_the_same_transaction(
    client: httpx.AsyncClient, sender: dict[str, str], shop: str
) -> None:
    body = payment_request(shop)
    first = await client.post(PATH, json=body, headers=sender)
    assert first.status_code == 201
    retry = await client.post(PATH, json={**body, "requestTimestamp": "2030-01-01T00:00:00Z"}, headers=sender)
    assert retry.status_code == 200, retry.text
    assert retry.json()["paymentInformation"] == first.json()["paymentInformation"]
    assert retry.headers["location"] == first.headers["location"]

    changed = await client.post(PATH, json={**body, "purpose": "Etwas anderes"}, headers=sender)
    problem = assert_problem(changed, 409, "PAYMENT_EXISTS")
    assert problem["transactionId"] == first.json()["paymentInformation"]["transactionId"]


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
    assert events.about(transaction_id) == []


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
    answer = await client.post(
        f"/paymenttransaction/{'o' * 65}/{ENDPOINT}", json=payment_request(shop), headers=sender
    )
    assert_problem(answer, 404, "NO_VALID_ORIGINATOR_OR_ENDPOINT")


async def test_provider_status(client: httpx.AsyncClient, sender: dict[str, str]) -> None:
    answer = await client.get(f"/status/{ORIGINATOR}/{ENDPOINT}", headers=sender)
    assert answer.status_code == 200
    assert answer.json() == {"status": "UP"}
