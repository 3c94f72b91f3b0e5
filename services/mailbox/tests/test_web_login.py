"""Web login against the real OIDC provider: what a login or session may not get away with."""

import base64
import json
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest

LOGIN_COOKIE = "ozg_mailbox_login"


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **changes})))


def assert_refused_page(answer: httpx.Response, says: str) -> None:
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert says in answer.text
    assert "Mit Servicekonto anmelden" in answer.text
    assert not [c for c in answer.headers.get_list("set-cookie") if c.startswith("ozg_mailbox_token=")]


async def assert_logged_out(browser: httpx.AsyncClient) -> None:
    inbox = await browser.get("/web/")
    assert inbox.status_code == 303
    assert inbox.headers["location"].startswith("/web/login")


@pytest.fixture
async def oidc_mailbox(isolated_mailbox: Any, oidc_provider: Any) -> Any:
    async with isolated_mailbox(**oidc_provider.mailbox_settings()) as (mailbox, _):
        yield mailbox


async def test_a_code_counts_once_and_only_with_its_state_and_verifier(
    oidc_mailbox: Any, oidc_provider: Any
) -> None:
    subject = f"buerger-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=oidc_mailbox.base_url) as browser:
        callback = await oidc_provider.leave_for_login(browser, subject)
        assert (await browser.get(callback)).status_code == 200
        replayed = await browser.get(callback)
        assert_refused_page(replayed, "keinen offenen Anmeldevorgang")

    async with httpx.AsyncClient(base_url=oidc_mailbox.base_url) as elsewhere:
        # The code and state reach another browser (a leaked URL): it has no pending login.
        assert_refused_page(await elsewhere.get(callback), "keinen offenen Anmeldevorgang")
        await assert_logged_out(elsewhere)

    async with httpx.AsyncClient(base_url=oidc_mailbox.base_url) as browser:
        callback = await oidc_provider.leave_for_login(browser, subject)
        forged_state = await browser.get(with_query(callback, state="von-einem-angreifer"))
        assert_refused_page(forged_state, "(state)")
        # The failed return used the pending login up: the right state no longer helps either.
        assert_refused_page(await browser.get(callback), "keinen offenen Anmeldevorgang")
        await assert_logged_out(browser)

    async with httpx.AsyncClient(base_url=oidc_mailbox.base_url) as browser:
        callback = await oidc_provider.leave_for_login(browser, subject)
        pending = json.loads(base64.urlsafe_b64decode(browser.cookies[LOGIN_COOKIE]))
        del pending["code_verifier"]
        tampered = base64.urlsafe_b64encode(json.dumps(pending).encode()).decode()
        browser.cookies.set(LOGIN_COOKIE, tampered, path="/web/auth")
        assert_refused_page(await browser.get(callback), "PKCE")
        await assert_logged_out(browser)


async def test_the_callback_only_counts_at_the_registered_redirect_uri(
    oidc_mailbox: Any, oidc_provider: Any
) -> None:
    async with httpx.AsyncClient(base_url=oidc_mailbox.base_url) as browser:
        callback = await oidc_provider.leave_for_login(browser, f"buerger-{uuid.uuid4().hex[:8]}")
        port = urlsplit(oidc_mailbox.base_url).port
        steered = await browser.get(callback, headers={"Host": f"postfach.example:{port}"})
        assert_refused_page(steered, "Rücksprungadresse ist beim Anmeldedienst nicht eingetragen")
        await assert_logged_out(browser)


@pytest.mark.parametrize(
    "next_page",
    [
        "https://phishing.example/web/",
        "//phishing.example/web/",
        "/web//phishing.example",
        "/\\phishing.example",
        "/web/../admin",
        "javascript:alert(1)",
    ],
)
async def test_next_cannot_lead_away_from_the_mailbox(
    oidc_mailbox: Any, oidc_provider: Any, next_page: str
) -> None:
    async with httpx.AsyncClient(base_url=oidc_mailbox.base_url) as browser:
        page = await browser.get("/web/login", params={"next": next_page})
        assert_refused_page(page, "gibt es hier nicht")
        start = await browser.get("/web/auth/start", params={"next": next_page})
        assert_refused_page(start, "gibt es hier nicht")
        assert "location" not in start.headers


async def test_a_safe_next_page_is_where_the_login_ends(oidc_mailbox: Any, oidc_provider: Any) -> None:
    async with httpx.AsyncClient(base_url=oidc_mailbox.base_url) as browser:
        start = await browser.get("/web/applications")
        assert start.headers["location"] == "/web/login?next=%2Fweb%2Fapplications"
        callback = await oidc_provider.leave_for_login(browser, "buerger-next", next_page="/web/applications")
        signed_in = await browser.get(callback)
        assert 'content="0; url=/web/applications"' in signed_in.text
        assert (await browser.get("/web/applications")).status_code == 200


async def test_tokens_of_another_provider_or_audience_and_expired_sessions_are_refused(
    isolated_mailbox: Any, oidc_provider: Any
) -> None:
    subject = f"buerger-{uuid.uuid4().hex[:8]}"
    async with (
        isolated_mailbox(**oidc_provider.mailbox_settings()) as (mailbox, _),
        httpx.AsyncClient(base_url=mailbox.base_url) as browser,
    ):
        for issuer_id in ("elsewhere", "citizen-expired"):
            # A session made of another provider's, or expired, tokens opens nothing.
            foreign = await oidc_provider.tokens(subject, issuer_id=issuer_id)
            browser.cookies.set("ozg_mailbox_token", foreign["access_token"], path="/web")
            browser.cookies.set("ozg_mailbox_id_token", foreign["id_token"], path="/web")
            await assert_logged_out(browser)
            api = await mailbox.http.get(
                "/v1/mailbox", headers={"Authorization": f"Bearer {foreign['access_token']}"}
            )
            assert api.status_code == 401
            assert api.headers["content-type"] == "application/problem+json"
        # The ID token must come from the same login as the access token.
        own = await oidc_provider.tokens(subject)
        other = await oidc_provider.tokens(f"{subject}-2")
        browser.cookies.set("ozg_mailbox_token", own["access_token"], path="/web")
        browser.cookies.set("ozg_mailbox_id_token", other["id_token"], path="/web")
        await assert_logged_out(browser)
        browser.cookies.set("ozg_mailbox_id_token", own["id_token"], path="/web")
        assert (await browser.get("/web/")).status_code == 200

    portal = oidc_provider.mailbox_settings(citizen_audience="ozg-postfach-hamburg")
    async with (
        isolated_mailbox(**portal) as (mailbox, _),
        httpx.AsyncClient(base_url=mailbox.base_url) as browser,
    ):
        # The provider's tokens name `ozg-mailbox`: not this mailbox.
        callback = await oidc_provider.leave_for_login(browser, subject)
        assert_refused_page(await browser.get(callback), "öffnet dieses Postfach nicht")
        await assert_logged_out(browser)

    expired = oidc_provider.mailbox_settings(issuer_id="citizen-expired")
    async with (
        isolated_mailbox(**expired) as (mailbox, _),
        httpx.AsyncClient(base_url=mailbox.base_url) as browser,
    ):
        callback = await oidc_provider.leave_for_login(browser, subject)
        assert_refused_page(await browser.get(callback), "ungültig oder abgelaufen")
        await assert_logged_out(browser)
