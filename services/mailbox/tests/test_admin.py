"""The operators' view of an application: status monitor and message headers, no personal data."""

import asyncio
import json
import uuid
from typing import Any

import httpx
from typer.testing import CliRunner

from ozg_cli import app as ozg

NOWHERE = "http://127.0.0.1:9"
"""A service that is not running (the discard port refuses connections)."""


async def test_operator_sees_timeline_and_message_headers_but_no_content(
    http: httpx.AsyncClient, citizens: Any, events: Any, tokens: Any, wait_for: Any
) -> None:
    subject = citizens.new()
    email = "erika.mustermann@example.de"
    citizen = citizens.headers(subject, email)
    admin = tokens.headers("admin", subject="operator")
    case_id = str(uuid.uuid4())
    note = "Frau Mustermann, Ihr Antrag wird geprüft."
    content = "Bitte senden Sie uns Ihre Steuer-ID 12 345 678 901."

    await events.submitted(case_id, citizens.mailbox(subject))
    await events.accepted(case_id)
    await events.status(case_id, "PROCESSING", note)
    await events.reply(case_id, title="Rückfrage zu Ihrem Antrag", content=content, files={"a.pdf": b"%PDF"})

    async def complete() -> dict[str, Any] | None:
        answer = await http.get(f"/v1/admin/applications/{case_id}", headers=admin)
        if answer.status_code != 200:
            return None
        trail: dict[str, Any] = answer.json()
        # The events travel on different topics: wait until all four have been applied.
        arrived = trail["service"] and len(trail["steps"]) == 4 and trail["messages"]
        return trail if arrived else None

    trail = await wait_for(complete)
    assert trail["caseId"] == case_id
    assert trail["service"] == "Anwohnerparkausweis"
    assert trail["authority"] == "Amt Musterland"
    assert trail["mailboxLinked"] is True
    assert [s["status"] for s in trail["steps"]] == ["INITIATED", "SUBMITTED", "RECEIVED", "PROCESSING"]
    assert all(set(s) == {"status", "occurredAt"} for s in trail["steps"])
    [header] = trail["messages"]
    assert set(header) == {"messageId", "origin", "sender", "title", "createdAt", "readAt"}
    assert header["title"] == "Rückfrage zu Ihrem Antrag"
    assert header["sender"] == "Amt Musterland – Straßenverkehrsbehörde"
    assert header["origin"] == "authority"
    assert header["readAt"] is None

    raw = (await http.get(f"/v1/admin/applications/{case_id}", headers=admin)).text
    for secret in (content, note, email, subject, str(citizens.mailbox(subject)), "a.pdf"):
        assert secret not in raw

    read = await http.get(f"/v1/mailbox/messages/{header['messageId']}", headers=citizen)
    assert read.status_code == 200
    after = (await http.get(f"/v1/admin/applications/{case_id}", headers=admin)).json()
    assert after["messages"][0]["readAt"] is not None

    env = {
        "OZG_CLI_MAILBOX_URL": str(http.base_url),
        **{f"OZG_CLI_{name}_URL": NOWHERE for name in ("SUBMISSION", "KOP_GATEWAY", "PAYMENT")},
    }
    token = tokens.token("admin", subject="operator")
    args = ["--token", token, "cases", "trail", case_id, "--json"]
    result = await asyncio.to_thread(CliRunner().invoke, ozg, args, env=env)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["mailbox application"] == after
    assert "not reachable" in shown["payment transactions"]["unavailable"]


async def test_only_operators_and_only_known_cases(
    http: httpx.AsyncClient, citizens: Any, events: Any, tokens: Any, wait_for: Any
) -> None:
    subject = citizens.new()
    case_id = str(uuid.uuid4())
    await events.submitted(case_id, citizens.mailbox(subject))

    async def known() -> bool:
        answer = await http.get(f"/v1/admin/applications/{case_id}", headers=tokens.headers("admin"))
        return answer.status_code == 200

    await wait_for(known)
    path = f"/v1/admin/applications/{case_id}"
    missing = await http.get(path)
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    for headers in (citizens.headers(subject), tokens.headers("send", subject="online-service")):
        refused = await http.get(path, headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"

    unknown = await http.get(f"/v1/admin/applications/{uuid.uuid4()}", headers=tokens.headers("admin"))
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["type"].endswith("/application-not-found")
    too_long = await http.get(f"/v1/admin/applications/{'x' * 101}", headers=tokens.headers("admin"))
    assert too_long.status_code in (400, 422)
    assert too_long.headers["content-type"] == "application/problem+json"
