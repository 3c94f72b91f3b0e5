"""A citizen pays, cancels or fails on the simulated provider's checkout page in a real browser."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from payment_testkit import ENDPOINT, OPENED, ORIGINATOR, EventLog, payment_request
from playwright.async_api import Browser

from ozg_payment.kassenzeichen import is_valid_kassenzeichen

PATH = f"/paymenttransaction/{ORIGINATOR}/{ENDPOINT}"


async def open_payment(client: httpx.AsyncClient, sender: dict[str, str], shop: str) -> dict[str, Any]:
    answer = await client.post(PATH, json=payment_request(shop), headers=sender)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    assert answer.headers["location"] == body["paymentInformation"]["transactionUrl"]
    return body


@pytest.mark.parametrize(
    ("button", "status", "event_type"),
    [
        ("Bezahlen", "PAYED", "de.ozg-router.payment.payed"),
        ("Abbrechen", "CANCELED", "de.ozg-router.payment.canceled"),
        ("Fehlschlag", "FAILED", "de.ozg-router.payment.failed"),
    ],
)
async def test_checkout_outcome_is_confirmed_and_published(
    client: httpx.AsyncClient,
    sender: dict[str, str],
    shop: str,
    browser: Browser,
    events: EventLog,
    artifacts: Path,
    button: str,
    status: str,
    event_type: str,
) -> None:
    created = await open_payment(client, sender, shop)
    info = created["paymentInformation"]
    assert info["status"] == "INITIAL"
    assert is_valid_kassenzeichen(info["transactionReference"])
    assert created["leikaKey"] == "99123456789001"
    assert created["items"][1]["bookingData"] == {"haushaltsstelle": "1100.13100"}

    page = await browser.new_page(locale="de-DE")
    try:
        await page.goto(info["transactionRedirectUrl"])
        assert await page.title() == "Bezahlen – Simulierter Zahlungsdienst"
        await page.get_by_role("heading", name="Gebühr bezahlen").wait_for()
        assert await page.get_by_test_id("betrag").inner_text() == "16,50 €"
        assert await page.get_by_test_id("kassenzeichen").inner_text() == info["transactionReference"]
        await page.get_by_role("group", name="Zahlungsart").get_by_label("PayPal").check()
        if status == "PAYED":
            await page.screenshot(path=str(artifacts / "payment-checkout.png"), full_page=True)
        await page.get_by_role("button", name=button, exact=True).click()
        await page.wait_for_url(shop + "*")
        await page.get_by_role("heading", name="Zurück beim Online-Dienst").wait_for()
    finally:
        await page.close()

    # The return through the payment service confirmed the outcome before the shop was reached.
    answer = await client.get(info["transactionUrl"], headers=sender)
    assert answer.status_code == 200
    confirmed = answer.json()["paymentInformation"]
    assert confirmed["status"] == status
    assert "transactionRedirectUrl" not in confirmed
    assert confirmed.get("paymentMethod") == ("PAYPAL" if status == "PAYED" else None)

    key, event = await events.wait_for_outcome(info["transactionId"])
    assert event.type == event_type
    assert key == created["caseId"].encode()
    assert event.subject == f"case:{created['caseId']}"
    assert event.data["case_id"] == created["caseId"]
    assert event.data["payment_information"]["status"] == status
    assert event.data["payment_information"]["transactionReference"] == info["transactionReference"]
    assert events.types_about(info["transactionId"]) == [OPENED, event_type]


async def test_a_decided_checkout_cannot_be_decided_again(
    client: httpx.AsyncClient, sender: dict[str, str], shop: str
) -> None:
    info = (await open_payment(client, sender, shop))["paymentInformation"]
    checkout = info["transactionRedirectUrl"]
    async with httpx.AsyncClient() as citizen:
        paid = await citizen.post(checkout, data={"aktion": "bezahlen", "zahlungsart": "GIROPAY"})
        assert paid.status_code == 303
        again = await citizen.post(checkout, data={"aktion": "abbrechen"})
        assert again.status_code == 409
        assert "bereits abgeschlossen" in again.text
