"""Email notices on a real SMTP server: no content, a link, retried when SMTP is down."""

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from ozg_mailbox.models import Model, Notice
from ozg_mailbox.notices.sender import NoticeSender
from ozg_mailbox.settings import MailboxSettings
from ozg_testing import fresh_database


async def test_new_message_sends_a_notice_without_content(
    http: httpx.AsyncClient, mailbox_service: Any, smtp: Any, citizens: Any, events: Any, wait_for: Any
) -> None:
    subject = citizens.new()
    address = f"{uuid.uuid4().hex[:8]}@buerger.example"
    assert (await http.get("/v1/mailbox", headers=citizens.headers(subject, address))).status_code == 200
    case_id = str(uuid.uuid4())
    await events.submitted(case_id, citizens.mailbox(subject), service_name="Wohngeld")
    await events.reply(
        case_id,
        title="Bescheid über Ihren Wohngeldantrag",
        content="Ihr Wohngeld beträgt 312 Euro.",
        files={"wohngeldbescheid.pdf": b"%PDF secret"},
    )

    async def mailed() -> list[Any] | None:
        return smtp.collector.to(address) or None

    [mail] = await wait_for(mailed)
    body = mail.get_payload(decode=True).decode()
    everything = body + str(mail["Subject"]) + str(mail["From"])
    assert mail["Subject"] == "Neue Nachricht in Ihrem Postfach"
    assert mail["To"] == address
    assert mailbox_service.settings.web_url in body
    for secret in ["Wohngeld", "312", "Bescheid", "wohngeldbescheid", "Amt Musterland", case_id]:
        assert secret not in everything, f"the notice must not reveal {secret!r}"


async def test_notice_is_retried_when_smtp_is_down(
    http: httpx.AsyncClient, mailbox_service: Any, smtp: Any, citizens: Any, events: Any, wait_for: Any
) -> None:
    subject = citizens.new()
    address = f"{uuid.uuid4().hex[:8]}@buerger.example"
    await http.get("/v1/mailbox", headers=citizens.headers(subject, address))
    smtp.stop()
    try:
        case_id = str(uuid.uuid4())
        await events.submitted(case_id, citizens.mailbox(subject))
        await events.reply(case_id)

        async def failed_once() -> bool:
            async with mailbox_service.app.state.database.transaction() as session:
                notice = await session.scalar(
                    select(Notice).where(Notice.mailbox_id == citizens.mailbox(subject))
                )
            return notice is not None and notice.attempts >= 1 and notice.state == "pending"

        await wait_for(failed_once)
        # The consumer is not held up meanwhile: another citizen's message still arrives.
        other = citizens.new()
        other_case = str(uuid.uuid4())
        await events.submitted(other_case, citizens.mailbox(other))
        await events.reply(other_case)

        async def other_arrived() -> bool:
            page = await http.get("/v1/mailbox/messages", headers=citizens.headers(other))
            return bool(page.json()["totalCount"])

        await wait_for(other_arrived)
    finally:
        smtp.start()

    async def mailed() -> list[Any] | None:
        return smtp.collector.to(address) or None

    [mail] = await wait_for(mailed, within=30)
    assert mail["Subject"] == "Neue Nachricht in Ihrem Postfach"


async def test_the_notice_sender_stops_when_stopped_as_a_commit_wakes_it(tmp_path: Path) -> None:
    database = await fresh_database("postgresql", "test_mailbox_notice_stop", tmp_path, Model.metadata)
    sender = NoticeSender(database, MailboxSettings(database_url=database.url, notice_poll_interval=30))
    running = asyncio.create_task(sender.run())
    try:
        await asyncio.sleep(0.5)  # idle, waiting for a wake-up
        async with database.transaction():
            pass  # every commit wakes the sender
        running.cancel()  # a service stopping at that moment
        done, _ = await asyncio.wait([running], timeout=3)
        assert done, "the notice sender ran on after it was cancelled"
    finally:
        running.cancel()
        await database.dispose()
