"""Retention: the periodic job deletes messages older than the maximum age, files included."""

import uuid
from datetime import timedelta
from typing import Any

from ozg_mailbox.blobs import attachment_key


async def test_messages_older_than_the_maximum_age_are_deleted(
    isolated_mailbox: Any, citizens: Any, wait_for: Any
) -> None:
    async with isolated_mailbox(message_max_age=timedelta(seconds=5), retention_interval=0.5) as (
        service,
        events,
    ):
        subject = citizens.new()
        headers = citizens.headers(subject)
        case_id = str(uuid.uuid4())
        await events.submitted(case_id, citizens.mailbox(subject))
        await events.reply(case_id, files={"alt.pdf": b"old"})

        async def arrived() -> list[dict[str, Any]] | None:
            return (await service.http.get("/v1/mailbox/messages", headers=headers)).json()[
                "messages"
            ] or None

        [summary] = await wait_for(arrived)
        url = f"/v1/mailbox/messages/{summary['messageId']}"
        attachment_id = (await service.http.get(url, headers=headers)).json()["attachments"][0][
            "attachmentId"
        ]
        blob = service.app.state.mailbox.blobs.path(attachment_key(uuid.UUID(attachment_id)))
        assert blob.exists()

        async def purged() -> bool:
            return (await service.http.get(url, headers=headers)).status_code == 404

        await wait_for(purged, within=15)
        assert not blob.exists()
        assert (await service.http.get("/v1/mailbox/messages", headers=headers)).json()["totalCount"] == 0
        applications = (await service.http.get("/v1/mailbox/applications", headers=headers)).json()
        assert applications["totalCount"] == 1, "the status monitor stays; only messages expire"
