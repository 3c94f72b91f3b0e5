"""A citizen's reply while Kafka cannot take events: refused with 503 and Retry-After, by the API and
on the web page, nothing stored; the mailbox can still be read."""

import uuid
from typing import Any

from ozg_testing import TcpLink, assert_events_unavailable, kafka_bootstrap, until_kafka_refuses_writes

REPLY = {"title": "Nachweis", "content": "Anbei."}


async def test_replies_are_refused_while_kafka_is_unreachable_and_reads_answer(
    isolated_mailbox: Any, citizens: Any, wait_for: Any
) -> None:
    # A mailbox of its own, reaching the shared broker through a link cut once a message is there.
    host, _, port = kafka_bootstrap().split(",")[0].rpartition(":")
    link = TcpLink(host, int(port))
    await link.connect()
    subject = citizens.new()
    headers = citizens.headers(subject)
    case_id = str(uuid.uuid4())
    try:
        async with isolated_mailbox(
            kafka_bootstrap_servers=f"127.0.0.1:{link.port}", kafka_watch_interval=0.5
        ) as (mailbox, events):
            await events.submitted(case_id, citizens.mailbox(subject))
            await events.reply(case_id)

            async def arrived() -> list[dict[str, str]] | None:
                answer = await mailbox.http.get("/v1/mailbox/messages", headers=headers)
                return answer.json()["messages"] or None

            [summary] = await wait_for(arrived)
            await link.cut()
            await until_kafka_refuses_writes(mailbox.app.state.runtime)
            message = f"/v1/mailbox/messages/{summary['messageId']}"
            by_api = await mailbox.http.post(f"{message}/replies", headers=headers, json=REPLY)
            # The refusal comes before the login is looked at: whoever sends the form is told.
            on_the_web = await mailbox.http.post(f"/web/messages/{summary['messageId']}/reply", data=REPLY)
            read = await mailbox.http.get(message, headers=headers)
    finally:
        await link.cut()

    assert_events_unavailable(by_api, f"127.0.0.1:{link.port}")
    assert on_the_web.status_code == 503
    assert on_the_web.headers["content-type"].startswith("text/html")
    assert on_the_web.headers["retry-after"] == "1"
    assert "Ihre Antwort kann gerade nicht angenommen werden" in on_the_web.text
    assert read.status_code == 200, read.text
    assert read.json()["replies"] == []
