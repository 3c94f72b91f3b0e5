"""The citizen's web page in headless Chromium, with JavaScript switched off: it must work without."""

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from ozg_common.contracts.mailbox import MailboxCitizenReplied
from ozg_common.settings import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "var" / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests")
    return CHROMIUM


@pytest.fixture(scope="module")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=ARTIFACTS / f"mailbox-{name}.png", full_page=True)


async def test_citizen_logs_in_reads_replies_and_follows_the_status(
    browser: Browser, isolated_mailbox: Any, oidc_provider: Any, wait_for: Any, tmp_path: Path
) -> None:
    subject = f"buerger-{uuid.uuid4().hex[:12]}"
    case_id = str(uuid.uuid4())
    level = "http://eidas.europa.eu/LoA/substantial"
    async with isolated_mailbox(**oidc_provider.mailbox_settings()) as (mailbox_service, events):
        http: httpx.AsyncClient = mailbox_service.http
        kafka = events.kafka
        await events.submitted(case_id, oidc_provider.mailbox(subject), service_name="Anwohnerparkausweis")
        await events.accepted(case_id)
        await events.status(case_id, "PROCESSING", "Ihre Unterlagen werden geprüft.")
        await events.reply(
            case_id,
            title="Nachforderung von Unterlagen",
            content="Guten Tag,\nbitte reichen Sie eine Kopie Ihres Fahrzeugscheins nach.",
            files={"Nachforderung.pdf": b"%PDF-1.7 Nachforderung"},
        )
        # The API takes the provider's access tokens like any configured citizen issuer's.
        api_token = (await oidc_provider.tokens(subject))["access_token"]

        async def arrived() -> bool:
            page = await http.get("/v1/mailbox/messages", headers={"Authorization": f"Bearer {api_token}"})
            return bool(page.json()["totalCount"])

        await wait_for(arrived)
        await _browse_as_citizen(browser, mailbox_service, kafka, subject, level, case_id, tmp_path)
        profile = await http.get("/v1/mailbox", headers={"Authorization": f"Bearer {api_token}"})
        assert profile.json()["storkQaaLevel"] == level


async def _browse_as_citizen(
    browser: Browser, mailbox_service: Any, kafka: Any, subject: str, level: str, case_id: str, tmp_path: Path
) -> None:
    context = await browser.new_context(
        base_url=mailbox_service.base_url, java_script_enabled=False, locale="de-DE", accept_downloads=True
    )
    page = await context.new_page()
    try:
        await page.goto("/web/applications")
        await expect(page).to_have_url(re.compile(r"/web/login\?next=%2Fweb%2Fapplications$"))
        assert await page.get_attribute("html", "lang") == "de"
        await expect(page.get_by_role("heading", level=1, name="Anmelden")).to_be_visible()
        await screenshot(page, "login")
        await page.get_by_role("link", name="Mit Servicekonto anmelden").click()

        # The provider's own login page.
        await expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/citizen/authorize\?"))
        assert "code_challenge_method=S256" in page.url
        await page.get_by_placeholder("Enter any user/subject").fill(subject)
        await page.locator("textarea[name=claims]").fill(f'{{"stork_qaa_level": "{level}"}}')
        await page.get_by_role("button", name="Sign-in").click()

        await expect(page.get_by_role("heading", level=1, name="Meine Anträge")).to_be_visible()
        assert not [c for c in await context.cookies() if c["name"] == "ozg_mailbox_login"]
        await page.get_by_role("link", name="Posteingang").click()

        await expect(page.get_by_role("heading", level=1, name="Posteingang")).to_be_visible()
        cookie = next(c for c in await context.cookies() if c["name"] == "ozg_mailbox_token")
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Strict"
        await expect(page.get_by_text("Sie haben 1 ungelesene Nachricht.")).to_be_visible()
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("link", name="Zum Inhalt springen")).to_be_focused()
        await screenshot(page, "inbox")

        await page.get_by_role("link", name="Nachforderung von Unterlagen").click()
        await expect(
            page.get_by_role("heading", level=1, name="Nachforderung von Unterlagen")
        ).to_be_visible()
        await expect(page.get_by_text("bitte reichen Sie eine Kopie")).to_be_visible()
        async with page.expect_download() as download_info:
            await page.get_by_role("link", name="Nachforderung.pdf").click()
        download = await download_info.value
        saved = tmp_path / "download.pdf"
        await download.save_as(saved)
        assert saved.read_bytes() == b"%PDF-1.7 Nachforderung"

        upload = tmp_path / "fahrzeugschein.txt"
        upload.write_text("Fahrzeugschein HH-AB 123")
        await page.get_by_label("Ihre Nachricht an die Behörde").fill("Anbei der Fahrzeugschein.")
        await page.get_by_label("Anhänge (optional)").set_input_files(upload)
        await screenshot(page, "message")
        await page.get_by_role("button", name="Antwort senden").click()
        await expect(page.get_by_text("Ihre Antwort wurde an die Behörde gesendet.")).to_be_visible()
        [replied] = await kafka.published(MailboxCitizenReplied, case_id)
        assert replied.data["title"] == "Re: Nachforderung von Unterlagen"
        assert replied.data["content"] == "Anbei der Fahrzeugschein."
        assert replied.data["attachments"][0]["filename"] == "fahrzeugschein.txt"
        await screenshot(page, "replied")

        await page.get_by_role("link", name="Meine Anträge").click()
        await expect(page.get_by_role("heading", level=2, name="Anwohnerparkausweis")).to_be_visible()
        timeline = page.locator("ol.timeline li")
        await expect(timeline).to_have_count(4)
        await expect(timeline.nth(0)).to_contain_text("Antrag gestellt")
        await expect(timeline.nth(1)).to_contain_text("Antrag eingereicht")
        await expect(timeline.nth(2)).to_contain_text("Bei der Behörde eingegangen")
        await expect(timeline.nth(3)).to_contain_text("In Bearbeitung")
        await expect(timeline.nth(3)).to_contain_text("Ihre Unterlagen werden geprüft.")
        await screenshot(page, "applications")

        await page.get_by_role("button", name="Abmelden").click()
        await expect(page).to_have_url(re.compile(r"/web/login\?logged_out=true$"))
        await expect(page.get_by_text("Sie haben sich abgemeldet.")).to_be_visible()
        assert not [
            c
            for c in await context.cookies()
            if c["name"].startswith("ozg_mailbox_") and "token" in c["name"]
        ]
        await page.goto("/web/")
        await expect(page).to_have_url(re.compile(r"/web/login\?next=%2Fweb%2F$"))
    finally:
        await context.close()


async def test_forms_need_the_csrf_token_and_pages_stay_private(
    isolated_mailbox: Any, oidc_provider: Any, wait_for: Any
) -> None:
    owner, other = f"owner-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
    case_id = str(uuid.uuid4())
    async with isolated_mailbox(**oidc_provider.mailbox_settings()) as (mailbox_service, events):
        http: httpx.AsyncClient = mailbox_service.http
        await events.submitted(case_id, oidc_provider.mailbox(owner))
        await events.reply(case_id, files={"privat.pdf": b"private"})
        owner_headers = {"Authorization": f"Bearer {(await oidc_provider.tokens(owner))['access_token']}"}

        async def arrived() -> list[dict[str, Any]] | None:
            page = await http.get("/v1/mailbox/messages", headers=owner_headers)
            return page.json()["messages"] or None

        [summary] = await wait_for(arrived)
        message_id = summary["messageId"]

        async with httpx.AsyncClient(base_url=mailbox_service.base_url) as browser:
            signed_in = await oidc_provider.web_login(browser, other)
            cookies = signed_in.headers.get_list("set-cookie")
            [session] = [c.lower() for c in cookies if c.startswith("ozg_mailbox_token=")]
            assert "samesite=strict" in session
            assert "httponly" in session
            inbox = await browser.get("/web/")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', inbox.text)
            assert csrf is not None

            foreign = await browser.get(f"/web/messages/{message_id}")
            assert foreign.status_code == 404
            assert "Nachforderung" not in foreign.text
            no_csrf = await browser.post(f"/web/messages/{message_id}/delete")
            assert no_csrf.status_code == 403
            with_csrf = await browser.post(
                f"/web/messages/{message_id}/delete", data={"csrf_token": csrf.group(1)}
            )
            assert with_csrf.status_code == 404
            forged_logout = await browser.post("/web/logout")
            assert forged_logout.status_code == 403

        still = await http.get(f"/v1/mailbox/messages/{message_id}", headers=owner_headers)
        assert still.status_code == 200
