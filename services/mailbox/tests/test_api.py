"""The citizen's API, driven by events produced into Kafka the way the other services do."""

import base64
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from ozg_common.contracts.delivery import CaseRejected
from ozg_common.contracts.mailbox import MailboxCitizenReplied, MailboxMessageRead
from ozg_common.contracts.payment import PaymentCanceled, PaymentPayed
from ozg_mailbox.blobs import attachment_key


async def test_mailbox_identity_and_profile(http: httpx.AsyncClient, citizens: Any) -> None:
    subject = citizens.new()
    answer = await http.get("/v1/mailbox", headers=citizens.headers(subject, "erika@example.de"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["mailboxUuid"] == str(citizens.mailbox(subject))
    assert body["email"] == "erika@example.de"
    assert body["storkQaaLevel"] == "STORK-QAA-Level-3"

    chosen = await http.put(
        "/v1/mailbox/profile",
        json={"email": "post@erika.example"},
        headers=citizens.headers(subject, "x@y.de"),
    )
    assert chosen.json()["email"] == "post@erika.example"
    again = await http.get("/v1/mailbox", headers=citizens.headers(subject, "other@example.de"))
    assert again.json()["email"] == "post@erika.example", "the citizen's choice wins over the token"

    bad = await http.put("/v1/mailbox/profile", json={"email": "no\nmail"}, headers=citizens.headers(subject))
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


async def test_tokens_are_checked(http: httpx.AsyncClient, tokens: Any) -> None:
    missing = await http.get("/v1/mailbox/messages")
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    forged = await http.get("/v1/mailbox", headers={"Authorization": "Bearer not.a.token"})
    assert forged.status_code == 401
    sender = await http.get("/v1/mailbox", headers=tokens.headers("send", subject="online-service"))
    assert sender.status_code == 403
    assert sender.json()["type"].endswith("/citizen-scope-required")


async def test_application_message_read_receipt_and_reply(
    http: httpx.AsyncClient, citizens: Any, events: Any, kafka: Any, wait_for: Any
) -> None:
    subject = citizens.new()
    headers = citizens.headers(subject, "erika@example.de")
    case_id = str(uuid.uuid4())
    pdf = b"%PDF-1.7 Bescheid" * 100

    await events.submitted(case_id, citizens.mailbox(subject))
    await events.accepted(case_id)
    await events.status(case_id, "PROCESSING", "Ihr Antrag wird geprüft.")
    source_id = await events.reply(case_id, files={"Anhörung.pdf": pdf})

    async def message_arrived() -> dict[str, Any] | None:
        page = (await http.get("/v1/mailbox/messages", headers=headers)).json()
        return page if page["totalCount"] == 1 else None

    page = await wait_for(message_arrived)
    summary = page["messages"][0]
    assert summary["readAt"] is None
    assert summary["sender"] == "Amt Musterland – Straßenverkehrsbehörde"
    assert summary["service"] == "Anwohnerparkausweis"
    assert summary["reference"] == case_id
    assert summary["mailboxUuid"] == str(citizens.mailbox(subject))
    unread = (await http.get("/v1/mailbox/messages?unread=true", headers=headers)).json()
    assert unread["totalCount"] == 1

    async def processing() -> dict[str, Any] | None:
        found = (await http.get("/v1/mailbox/applications", headers=headers)).json()["applications"]
        return found[0] if found and found[0]["status"] == "PROCESSING" else None

    application = await wait_for(processing)
    assert [s["status"] for s in application["steps"]] == ["INITIATED", "SUBMITTED", "RECEIVED", "PROCESSING"]
    assert application["steps"][-1]["note"] == "Ihr Antrag wird geprüft."
    assert all(s["occurredAt"] for s in application["steps"])
    assert application["applicationId"] == summary["applicationId"]
    single = await http.get(f"/v1/mailbox/applications/{application['applicationId']}", headers=headers)
    assert single.json()["reference"] == case_id

    message = (await http.get(f"/v1/mailbox/messages/{summary['messageId']}", headers=headers)).json()
    assert message["readAt"] is not None
    assert message["content"] == "Bitte reichen Sie eine Kopie Ihres Fahrzeugscheins nach."
    assert message["replyAddress"] == "https://amt-musterland.example/antworten"
    assert message["retrievalConfirmationAddress"] == "http://127.0.0.1:8003/v1/read-receipts/x"
    [attachment] = message["attachments"]
    assert attachment["length"] == len(pdf)
    assert attachment["sha512"] == hashlib.sha512(pdf).hexdigest()
    [receipt] = await kafka.published(MailboxMessageRead, case_id)
    assert receipt.data["message_id"] == source_id
    assert receipt.data["destination_id"] == "9a0b7c1d-0000-4000-8000-000000000001"
    assert receipt.data["retrieval_confirmation_address"] == "http://127.0.0.1:8003/v1/read-receipts/x"

    await http.get(f"/v1/mailbox/messages/{summary['messageId']}", headers=headers)
    assert (await http.get("/v1/mailbox/messages?unread=true", headers=headers)).json()["totalCount"] == 0

    download = await http.get(
        f"/v1/mailbox/messages/{summary['messageId']}/attachments/{attachment['attachmentId']}",
        headers=headers,
    )
    assert download.status_code == 200
    assert download.content == pdf
    assert download.headers["content-type"] == "application/pdf"
    assert "attachment" in download.headers["content-disposition"]

    scan = b"scan of the registration"
    answer = await http.post(
        f"/v1/mailbox/messages/{summary['messageId']}/replies",
        headers=headers,
        json={
            "title": "Re: Rückfrage",
            "content": "Anbei der Fahrzeugschein.",
            "attachments": [
                {
                    "filename": "fahrzeugschein.png",
                    "mimeType": "image/png",
                    "contentBase64": base64.b64encode(scan).decode(),
                }
            ],
        },
    )
    assert answer.status_code == 201, answer.text
    [replied] = await kafka.published(MailboxCitizenReplied, case_id)
    assert replied.data["in_reply_to"] == source_id
    assert replied.data["reply_id"] == answer.json()["replyId"]
    assert replied.data["content"] == "Anbei der Fahrzeugschein."
    [sent_file] = replied.data["attachments"]
    assert base64.b64decode(sent_file["content_base64"]) == scan
    assert sent_file["sha512"] == hashlib.sha512(scan).hexdigest()
    assert sent_file["size"] == len(scan)

    # A second read sends no second receipt.
    await kafka.published(MailboxCitizenReplied, case_id)
    assert (
        len(
            [
                e
                for e in kafka.seen
                if e.type == MailboxMessageRead.cloud_type() and e.data["case_id"] == case_id
            ]
        )
        == 1
    )


async def test_events_for_a_mailbox_nobody_opened_yet_are_kept(
    http: httpx.AsyncClient, citizens: Any, events: Any, wait_for: Any
) -> None:
    subject = citizens.new()
    case_id = str(uuid.uuid4())
    # The reply comes before the submission event (different topics, any order).
    await events.reply(case_id, title="Bescheid")
    await events.submitted(case_id, citizens.mailbox(subject))

    async def arrived() -> list[dict[str, Any]] | None:
        page = await http.get("/v1/mailbox/messages", headers=citizens.headers(subject))
        return page.json()["messages"] or None

    [message] = await wait_for(arrived)
    assert message["title"] == "Bescheid"


async def test_a_message_delivered_twice_is_stored_once(
    http: httpx.AsyncClient, citizens: Any, events: Any, wait_for: Any
) -> None:
    subject = citizens.new()
    case_id = str(uuid.uuid4())
    await events.submitted(case_id, citizens.mailbox(subject))
    # kop-gateway may publish the same message again (a new CloudEvent id, the same message id).
    message_id = await events.reply(case_id, title="Erste Zustellung", files={"a.pdf": b"a"})
    await events.reply(case_id, title="Erste Zustellung", files={"a.pdf": b"a"}, message_id=message_id)
    await events.reply(case_id, title="Zweite Nachricht")

    async def both() -> list[dict[str, Any]] | None:
        page = (await http.get("/v1/mailbox/messages", headers=citizens.headers(subject))).json()
        return page["messages"] if page["totalCount"] >= 2 else None

    messages = await wait_for(both)
    assert sorted(m["title"] for m in messages) == ["Erste Zustellung", "Zweite Nachricht"]
    assert messages[0]["title"] == "Zweite Nachricht", "newest first"


async def test_payment_outcomes_reach_the_status_monitor(
    http: httpx.AsyncClient, citizens: Any, events: Any, kafka: Any, wait_for: Any
) -> None:
    subject = citizens.new()
    headers = citizens.headers(subject)
    paid_case, canceled_case = str(uuid.uuid4()), str(uuid.uuid4())
    paid_tx, canceled_tx = f"tx-{uuid.uuid4()}", f"tx-{uuid.uuid4()}"

    # Paid before the application was sent: the payment names no case, only its transaction.
    await kafka.publish(payment_event(PaymentPayed, paid_tx, None), "/ozg-router/payment")
    await events.submitted(
        paid_case, citizens.mailbox(subject), payment_required=True, transaction_id=paid_tx
    )
    await events.submitted(
        canceled_case, citizens.mailbox(subject), payment_required=True, transaction_id=canceled_tx
    )
    await kafka.publish(payment_event(PaymentCanceled, canceled_tx, canceled_case), "/ozg-router/payment")

    async def both() -> dict[str, dict[str, Any]] | None:
        found = (await http.get("/v1/mailbox/applications", headers=headers)).json()["applications"]
        by_case = {a["reference"]: a for a in found}
        if by_case.get(canceled_case, {}).get("paymentStatus") == "CANCELED" and paid_case in by_case:
            return by_case
        return None

    by_case = await wait_for(both)
    paid = by_case[paid_case]
    assert paid["paymentStatus"] == "PAYED"
    assert [s["status"] for s in paid["steps"]] == ["INITIATED", "SUBMITTED"]
    canceled = by_case[canceled_case]
    assert [s["status"] for s in canceled["steps"]] == ["INITIATED"]
    assert canceled["outcome"] == "payment_failed"
    assert canceled["statusDetail"].startswith("Zahlung abgebrochen")
    messages = (await http.get("/v1/mailbox/messages", headers=headers)).json()["messages"]
    [notice] = [m for m in messages if m["reference"] == canceled_case]
    assert notice["origin"] == "system"
    assert notice["title"] == "Zahlung abgebrochen"
    reply = await http.post(
        f"/v1/mailbox/messages/{notice['messageId']}/replies",
        headers=headers,
        json={"title": "Warum?", "content": "?"},
    )
    assert reply.status_code == 409


async def test_payment_before_or_after_a_repeated_submission_gives_one_timeline(
    http: httpx.AsyncClient, citizens: Any, events: Any, kafka: Any, consumed: Any
) -> None:
    subject = citizens.new()
    mailbox = citizens.mailbox(subject)
    paid_first, submitted_first, fee_free = (str(uuid.uuid4()) for _ in range(3))
    tx = {case: f"tx-{uuid.uuid4()}" for case in (paid_first, submitted_first, fee_free)}

    async def paid(case_id: str) -> None:
        await consumed(
            await kafka.publish(payment_event(PaymentPayed, tx[case_id], case_id), "/ozg-router/payment")
        )

    async def submitted(case_id: str, *, fee: bool = True) -> None:
        transaction_id = tx[case_id] if fee else None
        await consumed(
            await events.submitted(case_id, mailbox, payment_required=fee, transaction_id=transaction_id)
        )

    await paid(paid_first)
    await submitted(paid_first)
    await submitted(submitted_first)
    await paid(submitted_first)
    # A payment the online service started on a case without a fee is shown as well.
    await paid(fee_free)
    await submitted(fee_free, fee=False)
    # Submission publishes a case again after a crash before its offset commit (a new CloudEvent).
    for case_id in (paid_first, submitted_first):
        await submitted(case_id)
    await submitted(fee_free, fee=False)

    found = (await http.get("/v1/mailbox/applications", headers=citizens.headers(subject))).json()
    by_case = {a["reference"]: a for a in found["applications"]}
    for case_id in (paid_first, submitted_first):
        application = by_case[case_id]
        assert application["status"] == "SUBMITTED", case_id
        assert application["paymentStatus"] == "PAYED"
        assert application["statusDetail"] is None
        steps = [(s["status"], s["note"]) for s in application["steps"]]
        assert steps == [("INITIATED", None), ("SUBMITTED", "Zahlung eingegangen")], case_id
    assert by_case[fee_free]["paymentStatus"] == "PAYED"
    assert [s["status"] for s in by_case[fee_free]["steps"]] == ["INITIATED", "SUBMITTED"]


async def test_rejected_case_says_why(
    http: httpx.AsyncClient, citizens: Any, events: Any, kafka: Any, wait_for: Any
) -> None:
    subject = citizens.new()
    headers = citizens.headers(subject)
    case_id = str(uuid.uuid4())
    await events.submitted(case_id, citizens.mailbox(subject))
    await kafka.publish(
        CaseRejected(
            case_id=case_id,
            submission_id=str(uuid.uuid4()),
            destination_id="9a0b7c1d-0000-4000-8000-000000000001",
            rejected_at=datetime.now(UTC),
            problems=[{"title": "Unvollständig", "detail": "Die Meldebescheinigung fehlt."}],
        ),
        "/ozg-router/kop-gateway",
    )

    async def rejected() -> dict[str, Any] | None:
        found = (await http.get("/v1/mailbox/applications", headers=headers)).json()["applications"]
        return found[0] if found and found[0]["outcome"] == "rejected" else None

    application = await wait_for(rejected)
    assert "Die Meldebescheinigung fehlt." in application["statusDetail"]
    [message] = (await http.get("/v1/mailbox/messages", headers=headers)).json()["messages"]
    full = (await http.get(f"/v1/mailbox/messages/{message['messageId']}", headers=headers)).json()
    assert full["title"] == "Antrag abgelehnt"
    assert "Die Meldebescheinigung fehlt." in full["content"]


async def test_attachment_that_fails_verification_is_left_out_but_the_message_kept(
    http: httpx.AsyncClient, citizens: Any, events: Any, wait_for: Any
) -> None:
    subject = citizens.new()
    headers = citizens.headers(subject)
    case_id = str(uuid.uuid4())
    await events.submitted(case_id, citizens.mailbox(subject))
    await events.reply(case_id, files={"kaputt.pdf": b"tampered"}, corrupt=True)

    async def arrived() -> list[dict[str, Any]] | None:
        return (await http.get("/v1/mailbox/messages", headers=headers)).json()["messages"] or None

    [summary] = await wait_for(arrived)
    message = (await http.get(f"/v1/mailbox/messages/{summary['messageId']}", headers=headers)).json()
    assert message["attachments"] == []
    assert "kaputt.pdf" in message["content"]


async def test_isolation_between_citizens(
    http: httpx.AsyncClient, citizens: Any, events: Any, wait_for: Any
) -> None:
    owner, other = citizens.new(), citizens.new()
    owner_headers, other_headers = citizens.headers(owner), citizens.headers(other)
    case_id = str(uuid.uuid4())
    await events.submitted(case_id, citizens.mailbox(owner))
    await events.reply(case_id, files={"geheim.pdf": b"personal data"})

    async def arrived() -> list[dict[str, Any]] | None:
        return (await http.get("/v1/mailbox/messages", headers=owner_headers)).json()["messages"] or None

    [summary] = await wait_for(arrived)
    message = (await http.get(f"/v1/mailbox/messages/{summary['messageId']}", headers=owner_headers)).json()
    attachment_id = message["attachments"][0]["attachmentId"]
    message_url = f"/v1/mailbox/messages/{summary['messageId']}"

    assert (await http.get("/v1/mailbox/messages", headers=other_headers)).json()["totalCount"] == 0
    assert (await http.get("/v1/mailbox/applications", headers=other_headers)).json()["totalCount"] == 0
    attempts = [
        await http.get(message_url, headers=other_headers),
        await http.get(f"{message_url}/attachments/{attachment_id}", headers=other_headers),
        await http.post(f"{message_url}/replies", headers=other_headers, json={"title": "x", "content": "y"}),
        await http.delete(message_url, headers=other_headers),
        await http.get(f"/v1/mailbox/applications/{summary['applicationId']}", headers=other_headers),
    ]
    for attempt in attempts:
        assert attempt.status_code == 404, attempt.text
        assert attempt.headers["content-type"] == "application/problem+json"
    # The attempts changed nothing for the owner.
    still = await http.get(f"{message_url}/attachments/{attachment_id}", headers=owner_headers)
    assert still.content == b"personal data"


async def test_reply_limits_and_bad_input(
    http: httpx.AsyncClient, mailbox_service: Any, citizens: Any, events: Any, wait_for: Any
) -> None:
    subject = citizens.new()
    headers = citizens.headers(subject)
    case_id = str(uuid.uuid4())
    await events.submitted(case_id, citizens.mailbox(subject))
    await events.reply(case_id)

    async def arrived() -> list[dict[str, Any]] | None:
        return (await http.get("/v1/mailbox/messages", headers=headers)).json()["messages"] or None

    [summary] = await wait_for(arrived)
    url = f"/v1/mailbox/messages/{summary['messageId']}/replies"
    limit = mailbox_service.settings.reply_max_total_bytes
    too_big = base64.b64encode(b"x" * (limit + 1)).decode()
    over = await http.post(
        url,
        headers=headers,
        json={
            "title": "t",
            "content": "c",
            "attachments": [{"filename": "a.bin", "mimeType": "x/y", "contentBase64": too_big}],
        },
    )
    assert over.status_code == 413
    assert over.headers["content-type"] == "application/problem+json"
    huge = await http.post(url, headers=headers, json={"title": "t", "content": "c" * (10 * limit)})
    assert huge.status_code == 413
    empty = await http.post(url, headers=headers, json={"title": "", "content": "c"})
    assert empty.status_code == 422
    broken = await http.post(url, headers={**headers, "content-type": "application/json"}, content=b"{nope")
    assert broken.status_code == 400
    not_base64 = await http.post(
        url,
        headers=headers,
        json={
            "title": "t",
            "content": "c",
            "attachments": [{"filename": "a", "mimeType": "x/y", "contentBase64": "@@"}],
        },
    )
    assert not_base64.status_code == 422
    assert (await http.get("/v1/mailbox/messages/not-a-uuid", headers=headers)).status_code in {400, 422}
    assert (await http.get(f"/v1/mailbox/messages/{uuid.uuid4()}", headers=headers)).status_code == 404
    assert (await http.get("/v1/mailbox/messages?limit=0", headers=headers)).status_code == 400


async def test_delete_is_for_real(
    http: httpx.AsyncClient, mailbox_service: Any, citizens: Any, events: Any, wait_for: Any
) -> None:
    subject = citizens.new()
    headers = citizens.headers(subject)
    case_id = str(uuid.uuid4())
    await events.submitted(case_id, citizens.mailbox(subject))
    await events.reply(case_id, files={"bescheid.pdf": b"bescheid"})

    async def arrived() -> list[dict[str, Any]] | None:
        return (await http.get("/v1/mailbox/messages", headers=headers)).json()["messages"] or None

    [summary] = await wait_for(arrived)
    url = f"/v1/mailbox/messages/{summary['messageId']}"
    attachment_id = (await http.get(url, headers=headers)).json()["attachments"][0]["attachmentId"]
    blob = mailbox_service.app.state.mailbox.blobs.path(attachment_key(uuid.UUID(attachment_id)))
    assert blob.exists()

    assert (await http.delete(url, headers=headers)).status_code == 204
    assert (await http.get(url, headers=headers)).status_code == 404
    assert (await http.get(f"{url}/attachments/{attachment_id}", headers=headers)).status_code == 404
    assert (await http.delete(url, headers=headers)).status_code == 404
    assert not blob.exists()
    assert (await http.get("/v1/mailbox/messages", headers=headers)).json()["totalCount"] == 0


async def test_an_event_time_without_offset_counts_as_utc(
    http: httpx.AsyncClient, citizens: Any, events: Any, kafka: Any, wait_for: Any
) -> None:
    """A peer's `submittedAt` without an offset meets a payment time read back with one."""
    subject = citizens.new()
    headers = citizens.headers(subject)
    case_id, transaction_id = str(uuid.uuid4()), f"tx-{uuid.uuid4()}"
    await kafka.publish(payment_event(PaymentPayed, transaction_id, None), "/ozg-router/payment")
    await events.submitted(
        case_id,
        citizens.mailbox(subject),
        payment_required=True,
        transaction_id=transaction_id,
        submitted_at=datetime.now(UTC).replace(tzinfo=None),
    )

    async def submitted() -> dict[str, Any] | None:
        found = (await http.get("/v1/mailbox/applications", headers=headers)).json()["applications"]
        return next((a for a in found if a["reference"] == case_id and a["paymentStatus"]), None)

    application = await wait_for(submitted)
    assert [s["status"] for s in application["steps"]] == ["INITIATED", "SUBMITTED"]
    assert all(s["occurredAt"].endswith(("Z", "+00:00")) for s in application["steps"])


def payment_event(kind: Any, transaction_id: str, case_id: str | None) -> Any:
    status = {PaymentPayed: "PAYED", PaymentCanceled: "CANCELED"}[kind]
    return kind(
        case_id=case_id,
        transaction_id=transaction_id,
        origin_id="ozg-router",
        endpoint_id="01001000",
        request_id=str(uuid.uuid4()),
        payment_information={"transactionId": transaction_id, "status": status},
    )
