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
    browser: Browser,
    mailbox_service: Any,
    http: httpx.AsyncClient,
    citizens: Any,
    events: Any,
    kafka: Any,
    wait_for: Any,
    tmp_path: Path,
) -> None:
    subject = citizens.new()
    case_id = str(uuid.uuid4())
    await events.submitted(case_id, citizens.mailbox(subject), service_name="Anwohnerparkausweis")
    await events.accepted(case_id)
    await events.status(case_id, "PROCESSING", "Ihre Unterlagen werden geprüft.")
    await events.reply(
        case_id,
        title="Nachforderung von Unterlagen",
        content="Guten Tag,\nbitte reichen Sie eine Kopie Ihres Fahrzeugscheins nach.",
        files={"Nachforderung.pdf": b"%PDF-1.7 Nachforderung"},
    )

    async def arrived() -> bool:
        page = await http.get("/v1/mailbox/messages", headers=citizens.headers(subject))
        return bool(page.json()["totalCount"])

    await wait_for(arrived)

    context = await browser.new_context(
        base_url=mailbox_service.base_url, java_script_enabled=False, locale="de-DE", accept_downloads=True
    )
    page = await context.new_page()
    try:
        await page.goto("/web/")
        await expect(page).to_have_url(re.compile(r"/web/login$"))
        assert await page.get_attribute("html", "lang") == "de"
        await expect(page.get_by_role("heading", level=1, name="Anmelden")).to_be_visible()
        await page.get_by_label("Zugangs-Token").fill(citizens.token(subject, "erika@example.de"))
        await screenshot(page, "login")
        await page.get_by_role("button", name="Anmelden").click()

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
        await expect(page).to_have_url(re.compile(r"/web/login$"))
        await page.goto("/web/")
        await expect(page).to_have_url(re.compile(r"/web/login$"))
    finally:
        await context.close()


async def test_forms_need_the_csrf_token_and_pages_stay_private(
    mailbox_service: Any, http: httpx.AsyncClient, citizens: Any, events: Any, wait_for: Any
) -> None:
    owner, other = citizens.new(), citizens.new()
    case_id = str(uuid.uuid4())
    await events.submitted(case_id, citizens.mailbox(owner))
    await events.reply(case_id, files={"privat.pdf": b"private"})

    async def arrived() -> list[dict[str, Any]] | None:
        page = await http.get("/v1/mailbox/messages", headers=citizens.headers(owner))
        return page.json()["messages"] or None

    [summary] = await wait_for(arrived)
    message_id = summary["messageId"]

    async with httpx.AsyncClient(base_url=mailbox_service.base_url) as browser:
        form = await browser.get("/web/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf is not None
        forged = await browser.post("/web/login", data={"token": citizens.token(other)})
        assert forged.status_code == 403
        wrong = await browser.post("/web/login", data={"token": "nonsense", "csrf_token": csrf.group(1)})
        assert wrong.status_code == 401
        assert "Anmeldung ist fehlgeschlagen" in wrong.text
        login = await browser.post(
            "/web/login", data={"token": citizens.token(other), "csrf_token": csrf.group(1)}
        )
        assert login.status_code == 303
        assert "samesite=strict" in login.headers["set-cookie"].lower()
        assert "httponly" in login.headers["set-cookie"].lower()

        foreign = await browser.get(f"/web/messages/{message_id}")
        assert foreign.status_code == 404
        assert "Nachforderung" not in foreign.text
        no_csrf = await browser.post(f"/web/messages/{message_id}/delete")
        assert no_csrf.status_code == 403
        with_csrf = await browser.post(
            f"/web/messages/{message_id}/delete", data={"csrf_token": csrf.group(1)}
        )
        assert with_csrf.status_code == 404

    still = await http.get(f"/v1/mailbox/messages/{message_id}", headers=citizens.headers(owner))
    assert still.status_code == 200
