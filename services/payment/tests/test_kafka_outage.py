"""Writes while Kafka cannot take events: refused with 503 and Retry-After, nothing stored; reads go on."""

import httpx
from payment_testkit import (
    ENDPOINT,
    LEIKA_KEY,
    MELDEBESCHEINIGUNG,
    ORIGINATOR,
    eventually,
    payment_request,
    payment_settings,
    publish,
    transactions_of_case,
)

from ozg_payment.app import create_app
from ozg_testing import (
    TcpLink,
    TestTokens,
    assert_events_unavailable,
    kafka_bootstrap,
    serving,
    until_kafka_refuses_writes,
)


async def test_payments_are_refused_while_kafka_is_unreachable_and_reads_answer(
    tokens: TestTokens, sender: dict[str, str]
) -> None:
    # A service of its own, reaching the shared broker through a link cut once its catalogue is there.
    host, _, port = kafka_bootstrap().split(",")[0].rpartition(":")
    link = TcpLink(host, int(port))
    await link.connect()
    settings = await payment_settings(
        "test_payment_kafka_outage",
        kafka_bootstrap_servers=f"127.0.0.1:{link.port}",
        kafka_watch_interval=0.5,
    )
    app = create_app(settings)
    app.state.token_verifier = tokens.verifier()
    body = payment_request("https://portal.example/zurueck")
    try:
        async with (
            serving(app, port=settings.port) as base_url,
            httpx.AsyncClient(base_url=base_url, timeout=30) as http,
        ):
            await publish(kafka_bootstrap(), settings.topic_prefix, MELDEBESCHEINIGUNG)

            async def fees() -> httpx.Response | None:
                answer = await http.get(f"/v1/fees/{LEIKA_KEY}", headers=sender)
                return answer if answer.status_code == 200 else None

            await eventually(fees)
            await link.cut()
            await until_kafka_refuses_writes(app.state.runtime)
            created = await http.post(
                f"/paymenttransaction/{ORIGINATOR}/{ENDPOINT}", json=body, headers=sender
            )
            notified = await http.post("/provider-notifications/some-transaction")
            stored = await transactions_of_case(http, tokens, body["caseId"])
            read = await http.get(f"/v1/fees/{LEIKA_KEY}", headers=sender)
    finally:
        await link.cut()

    for refused in (created, notified):
        assert_events_unavailable(refused, f"127.0.0.1:{link.port}")
    assert stored == 0
    assert read.status_code == 200, read.text
