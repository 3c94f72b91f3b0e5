"""The upstream adapter against a provider as real ones behave (see provider_standin.py).

It logs in with OAuth2 client credentials or a client certificate, accepts the transaction alone
as the answer, maps the provider's refusals and timeouts to the standard's codes, and /readyz
says when the provider is down. A portal that times out retries without paying twice.
"""

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from payment_testkit import (
    ENDPOINT,
    ORIGINATOR,
    payment_request,
    payment_settings,
    serve_payment,
    transactions_of_case,
)
from provider_standin import CLIENT_ID, CLIENT_SECRET, Listener, StandInProvider, TestPki
from pydantic import ValidationError

from ozg_payment.settings import PaymentSettings
from ozg_testing import TestTokens

PATH = f"/paymenttransaction/{ORIGINATOR}/{ENDPOINT}"
PROVIDER_TIMEOUT = 1.5


@pytest.fixture(scope="module")
async def standin() -> AsyncIterator[Listener]:
    listener = Listener(StandInProvider())
    await listener.start()
    yield listener
    await listener.stop()


@pytest.fixture(scope="module")
async def payment(standin: Listener, tokens: TestTokens) -> AsyncIterator[httpx.AsyncClient]:
    settings = await payment_settings(
        "test_payment_oauth2",
        provider_url=standin.provider.base_url,
        provider_auth="oauth2",
        provider_token_url=standin.provider.base_url + "/token",
        provider_client_id=CLIENT_ID,
        provider_client_secret=CLIENT_SECRET,
        provider_timeout=PROVIDER_TIMEOUT,
        simulated_provider_enabled=False,
        recheck_interval=3600,
    )
    async for url in serve_payment(settings, tokens):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield http


@pytest.fixture
def provider(standin: Listener) -> StandInProvider:
    """The stand-in, behaving again after whatever the previous test asked of it."""
    standin.provider.delay, standin.provider.refusal, standin.provider.token_lifetime = 0.0, None, 3600
    return standin.provider


async def test_token_is_cached_and_refreshed_once_when_refused(
    payment: httpx.AsyncClient, provider: StandInProvider, sender: dict[str, str], shop: str
) -> None:
    for _ in range(2):
        assert (await payment.post(PATH, json=payment_request(shop), headers=sender)).status_code == 201
    issued, refused = provider.tokens_issued, provider.unauthorized
    assert issued >= 1
    await payment.post(PATH, json=payment_request(shop), headers=sender)
    assert provider.tokens_issued == issued, "a valid token is used again"

    provider.revoke_tokens()
    created = await payment.post(PATH, json=payment_request(shop), headers=sender)
    assert created.status_code == 201, created.text
    assert (provider.tokens_issued, provider.unauthorized) == (issued + 1, refused + 1)

    # A token is replaced shortly before it expires, without the provider having to refuse it.
    provider.token_lifetime = 2
    provider.revoke_tokens()
    await payment.post(PATH, json=payment_request(shop), headers=sender)
    await payment.post(PATH, json=payment_request(shop), headers=sender)
    assert provider.tokens_issued == issued + 2
    await asyncio.sleep(1.2)
    assert (await payment.post(PATH, json=payment_request(shop), headers=sender)).status_code == 201
    assert (provider.tokens_issued, provider.unauthorized) == (issued + 3, refused + 2)
    assert all(header.startswith("Bearer ") for header in provider.authorizations)


async def test_calls_refused_together_fetch_one_new_token(
    payment: httpx.AsyncClient, provider: StandInProvider, sender: dict[str, str], shop: str
) -> None:
    assert (await payment.post(PATH, json=payment_request(shop), headers=sender)).status_code == 201
    issued = provider.tokens_issued
    provider.revoke_tokens()
    answers = await asyncio.gather(
        *(payment.post(PATH, json=payment_request(shop), headers=sender) for _ in range(4))
    )
    assert [answer.status_code for answer in answers] == [201] * 4
    assert provider.tokens_issued == issued + 1


async def test_portal_that_timed_out_retries_and_pays_once(
    payment: httpx.AsyncClient, provider: StandInProvider, sender: dict[str, str], shop: str
) -> None:
    """The provider is slow; the portal gives up before payment answers, then retries."""
    body = payment_request(shop)
    opened_before = len(provider.ledger)
    provider.delay = PROVIDER_TIMEOUT / 2
    with pytest.raises(httpx.TimeoutException):
        await payment.post(PATH, json=body, headers=sender, timeout=PROVIDER_TIMEOUT / 8)

    async def retry() -> httpx.Response:
        while True:
            answer = await payment.post(PATH, json=body, headers=sender)
            if answer.status_code != 503:
                return answer
            await asyncio.sleep(0.1)

    exists = await retry()
    assert exists.status_code == 400, exists.text
    assert exists.json()["errorCode"] == "PAYMENT_EXISTS"
    status = await payment.get(exists.headers["location"], headers=sender)
    assert status.status_code == 200, status.text
    info: dict[str, Any] = status.json()["paymentInformation"]
    assert info["transactionId"] == exists.json()["transactionId"]
    assert info["status"] == "INITIAL"
    assert len(provider.ledger) == opened_before + 1, "the provider opened one transaction, not two"
    # payment's transaction id is its requestId at the provider.
    [(provider_id, charged)] = [
        (key, opened)
        for key, opened in provider.ledger.items()
        if opened.request["requestId"] == info["transactionId"]
    ]
    assert info["transactionRedirectUrl"] == f"{provider.base_url}/paypage/{provider_id}"
    assert charged.request["transactionReference"] == info["transactionReference"]

    provider.pay(provider_id)
    back = await payment.get(f"/paymenttransaction-return/{info['transactionId']}")
    assert back.status_code == 303
    paid = (await payment.get(info["transactionUrl"], headers=sender)).json()["paymentInformation"]
    assert (paid["status"], paid["paymentMethod"]) == ("PAYED", "CREDITCARD")
    assert "transactionRedirectUrl" not in paid


@pytest.mark.parametrize(
    ("refusal", "status", "code"),
    [
        (
            (400, {"status": 400, "errorCode": "CALCULATION_ERROR", "functionalText": "Summe falsch"}),
            400,
            "CALCULATION_ERROR",
        ),
        (
            (400, {"status": 400, "errorCode": "BOOKING_DATA_MISSING", "functionalText": "HHST fehlt"}),
            400,
            "BOOKING_DATA_MISSING",
        ),
        (
            (400, {"status": 400, "errorCode": "PAYMENT_EXISTS", "functionalText": "doppelt"}),
            502,
            "UNSPECIFIED",
        ),
        (
            (403, {"status": 403, "errorCode": "FORBIDDEN", "functionalText": "kein Zugriff"}),
            502,
            "UNSPECIFIED",
        ),
        ((500, {"status": 500, "title": "Internal Server Error"}), 503, "UNSPECIFIED"),
        (None, 503, "UNSPECIFIED"),
    ],
    ids=[
        "calculation",
        "booking-data",
        "provider-payment-exists",
        "provider-forbidden",
        "provider-error",
        "timeout",
    ],
)
async def test_provider_refusals_and_timeouts_are_standard_errors(
    payment: httpx.AsyncClient,
    provider: StandInProvider,
    sender: dict[str, str],
    shop: str,
    tokens: TestTokens,
    refusal: tuple[int, dict[str, Any]] | None,
    status: int,
    code: str,
) -> None:
    provider.refusal = refusal
    if refusal is None:
        provider.delay = PROVIDER_TIMEOUT * 1.5
    body = payment_request(shop)
    answer = await payment.post(PATH, json=body, headers=sender)
    assert answer.status_code == status, answer.text
    problem = answer.json()
    assert problem["errorCode"] == code
    if refusal is not None and status == 400:
        assert refusal[1]["functionalText"] in problem["functionalText"]
    if status == 503:
        assert answer.headers["retry-after"]
    assert await transactions_of_case(payment, tokens, body["caseId"]) == 0, "nothing may be stored"


async def test_readiness_says_when_the_provider_is_down(
    payment: httpx.AsyncClient, standin: Listener, client: httpx.AsyncClient
) -> None:
    ready = await payment.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["provider"] == "ok"
    await standin.stop()
    try:
        down = await payment.get("/readyz")
        assert down.status_code == 503
        assert "does not answer" in down.json()["checks"]["provider"]
    finally:
        await standin.start()
    assert (await payment.get("/readyz")).status_code == 200
    simulated = await client.get("/readyz")
    assert simulated.status_code == 200, "the simulated provider needs no provider check"
    assert "provider" not in simulated.json()["checks"]


async def test_mutual_tls_login(
    tmp_path_factory: pytest.TempPathFactory, tokens: TestTokens, sender: dict[str, str], shop: str
) -> None:
    pki = TestPki.create(Path(tmp_path_factory.mktemp("pki")))
    provider = StandInProvider(require_token=False)
    listener = Listener(provider, tls=pki)
    await listener.start()
    try:
        settings = await payment_settings(
            "test_payment_mtls",
            provider_url=provider.base_url,
            provider_auth="mtls",
            provider_client_cert=str(pki.client_cert),
            provider_client_key=str(pki.client_key),
            provider_ca_file=str(pki.ca_cert),
            simulated_provider_enabled=False,
            recheck_interval=3600,
        )
        async for url in serve_payment(settings, tokens):
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                created = await http.post(PATH, json=payment_request(shop), headers=sender)
                assert created.status_code == 201, created.text
                assert len(provider.ledger) == 1
                assert (await http.get("/readyz")).json()["checks"]["provider"] == "ok"

        anonymous = ssl.create_default_context(cafile=str(pki.ca_cert))
        async with httpx.AsyncClient(verify=anonymous) as stranger:
            with pytest.raises(httpx.HTTPError):
                await stranger.get(f"{provider.base_url}/status/{ORIGINATOR}/{ENDPOINT}")
    finally:
        await listener.stop()


@pytest.mark.parametrize(
    ("login", "missing"),
    [
        (
            "oauth2",
            "OZG_PAYMENT_PROVIDER_TOKEN_URL, OZG_PAYMENT_PROVIDER_CLIENT_ID, "
            "OZG_PAYMENT_PROVIDER_CLIENT_SECRET",
        ),
        ("mtls", "OZG_PAYMENT_PROVIDER_CLIENT_CERT, OZG_PAYMENT_PROVIDER_CLIENT_KEY"),
    ],
)
def test_a_login_without_its_settings_does_not_start(login: str, missing: str) -> None:
    with pytest.raises(ValidationError, match=f"OZG_PAYMENT_PROVIDER_AUTH={login} needs {missing}"):
        PaymentSettings(provider_auth=login, provider_url="https://epayment.example.org")
