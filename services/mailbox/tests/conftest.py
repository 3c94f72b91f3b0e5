"""Fixtures: the mailbox served by real uvicorn on PostgreSQL and Kafka, a real SMTP server,
and helpers that play the other services by producing their events into Kafka."""

import asyncio
import base64
import hashlib
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message as EmailMessage
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import select

from ozg_common.contracts.delivery import (
    CaseAccepted,
    CaseReplyCreated,
    CaseStatusChanged,
    MessageAttachment,
    StatusMonitorState,
)
from ozg_common.contracts.submission import SubmissionSubmitted
from ozg_common.contracts.topics import MAILBOX
from ozg_common.db import Database
from ozg_common.events import CloudEvent, Event
from ozg_common.settings import PROJECT_ROOT
from ozg_mailbox.app import create_app
from ozg_mailbox.identity import mailbox_uuid
from ozg_mailbox.models import inbox_table
from ozg_mailbox.settings import MailboxSettings
from ozg_testing import (
    TestTokens,
    free_port,
    fresh_postgres_database,
    kafka_bootstrap,
    publish_event,
    serving,
    unique_topic_prefix,
)

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T | None]], within: float = 20.0) -> T:
    """Poll `check` until it answers something truthy (events travel through Kafka)."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.1)


Eventually = Callable[..., Awaitable[Any]]


@pytest.fixture(scope="session")
def wait_for() -> Eventually:
    return eventually


class MailCollector:
    """aiosmtpd handler keeping every received mail."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.mails.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [mail for rcpts, mail in self.mails if address in rcpts]


@dataclass
class SmtpServer:
    """A real SMTP server on loopback that tests may stop and start again."""

    port: int
    collector: MailCollector = field(default_factory=MailCollector)
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tokens() -> TestTokens:
    return TestTokens()


@dataclass
class Citizens:
    """Issues citizen tokens and knows the mailbox uuid each pseudonym maps to."""

    tokens: TestTokens

    def token(self, subject: str, email: str | None = None, level: str = "STORK-QAA-Level-3") -> str:
        claims: dict[str, Any] = {"stork_qaa_level": level}
        if email:
            claims["email"] = email
        return self.tokens.token("citizen", subject=subject, **claims)

    def headers(self, subject: str, email: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject, email)}"}

    @staticmethod
    def new() -> str:
        """A fresh pseudonym: every test gets citizens of its own."""
        return f"pseudonym-{uuid.uuid4().hex}"

    def mailbox(self, subject: str) -> uuid.UUID:
        return mailbox_uuid(self.tokens.issuer.issuer, subject)


@pytest.fixture(scope="session")
def citizens(tokens: TestTokens) -> Citizens:
    return Citizens(tokens)


async def make_settings(database: str, smtp_port: int, blob_dir: Path, **overrides: Any) -> MailboxSettings:
    port = free_port()
    values: dict[str, Any] = {
        "port": port,
        "public_base_url": f"http://127.0.0.1:{port}",
        "database_url": await fresh_postgres_database(database),
        "kafka_bootstrap_servers": kafka_bootstrap(),
        "topic_prefix": unique_topic_prefix(),
        "topic_partitions": 2,
        "outbox_poll_interval": 0.2,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_tls": "off",
        "smtp_timeout": 3.0,
        "notice_poll_interval": 0.2,
        "notice_retry_base": 0.5,
        "blob_dir": blob_dir,
        **overrides,
    }
    return MailboxSettings(**values)


@dataclass
class RunningMailbox:
    """The service under test, served over real HTTP."""

    settings: MailboxSettings
    app: FastAPI
    base_url: str
    http: httpx.AsyncClient


@asynccontextmanager
async def running_mailbox(settings: MailboxSettings, tokens: TestTokens) -> AsyncIterator[RunningMailbox]:
    app = create_app(settings)
    app.state.token_verifier = tokens.verifier()
    async with serving(app, port=settings.port) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        yield RunningMailbox(settings, app, base_url, http)


@pytest.fixture(scope="session")
async def mailbox_service(
    smtp: SmtpServer, tokens: TestTokens, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningMailbox]:
    settings = await make_settings("test_mailbox", smtp.port, tmp_path_factory.mktemp("blobs"))
    async with running_mailbox(settings, tokens) as service:
        yield service


@pytest.fixture(scope="session")
async def http(mailbox_service: RunningMailbox) -> httpx.AsyncClient:
    return mailbox_service.http


class Kafka:
    """Plays the other services: produces their events, reads what the mailbox publishes."""

    def __init__(self, prefix: str, partitions: int) -> None:
        self.prefix = prefix
        self.partitions = partitions
        self.producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(), acks="all")
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=kafka_bootstrap(), enable_auto_commit=False, auto_offset_reset="earliest"
        )
        self.seen: list[CloudEvent] = []

    async def start(self) -> None:
        await self.producer.start()
        await self.consumer.start()
        # The mailbox created its topics at start-up with this many partitions.
        assigned = [TopicPartition(self.prefix + MAILBOX.name, p) for p in range(self.partitions)]
        self.consumer.assign(assigned)
        await self.consumer.seek_to_beginning(*assigned)

    async def stop(self) -> None:
        await self.producer.stop()
        await self.consumer.stop()

    async def publish(self, event: Event, source: str) -> str:
        """Produce the event; its CloudEvent id."""
        envelope = await publish_event(self.producer, event, source=source, prefix=self.prefix)
        return envelope.id

    async def published(
        self, event_type: type[Event], case_id: str, *, count: int = 1, within: float = 20
    ) -> list[CloudEvent]:
        """Wait until the mailbox has published `count` events of this type for the case."""

        async def check() -> list[CloudEvent] | None:
            batches = await self.consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    self.seen.append(CloudEvent.from_kafka(record.headers, record.value or b"{}"))
            found = [
                e for e in self.seen if e.type == event_type.cloud_type() and e.data.get("case_id") == case_id
            ]
            return found if len(found) >= count else None

        return await eventually(check, within)


@pytest.fixture(scope="session")
async def kafka(mailbox_service: RunningMailbox) -> AsyncIterator[Kafka]:
    client = Kafka(mailbox_service.settings.topic_prefix, mailbox_service.settings.topic_partitions or 1)
    await client.start()
    yield client
    await client.stop()


class Events:
    """Builds the events of submission, payment and kop-gateway for one case."""

    def __init__(self, kafka: Kafka) -> None:
        self.kafka = kafka

    async def submitted(
        self,
        case_id: str,
        mailbox: uuid.UUID | None,
        *,
        payment_required: bool = False,
        transaction_id: str | None = None,
        service_name: str = "Anwohnerparkausweis",
        submitted_at: datetime | None = None,
    ) -> str:
        return await self.kafka.publish(
            SubmissionSubmitted(
                case_id=case_id,
                submission_id=str(uuid.uuid4()),
                destination_id=DESTINATION,
                leika_key="99050012104000",
                service_name=service_name,
                authority_name="Amt Musterland",
                mailbox_uuid=str(mailbox) if mailbox else None,
                payment_required=payment_required,
                payment_transaction_id=transaction_id,
                submitted_at=submitted_at or datetime.now(UTC),
            ),
            "/ozg-router/submission",
        )

    async def accepted(self, case_id: str) -> None:
        await self.kafka.publish(
            CaseAccepted(
                case_id=case_id,
                submission_id=str(uuid.uuid4()),
                destination_id=DESTINATION,
                accepted_at=datetime.now(UTC),
            ),
            "/ozg-router/kop-gateway",
        )

    async def status(self, case_id: str, status: StatusMonitorState, note: str | None = None) -> None:
        await self.kafka.publish(
            CaseStatusChanged(
                case_id=case_id,
                destination_id=DESTINATION,
                status=status,
                note=note,
                changed_at=datetime.now(UTC),
            ),
            "/ozg-router/kop-gateway",
        )

    async def reply(
        self,
        case_id: str,
        *,
        title: str = "Rückfrage zu Ihrem Antrag",
        content: str = "Bitte reichen Sie eine Kopie Ihres Fahrzeugscheins nach.",
        files: dict[str, bytes] | None = None,
        corrupt: bool = False,
        message_id: str | None = None,
    ) -> str:
        message_id = message_id or str(uuid.uuid4())
        attachments = [
            MessageAttachment(
                attachment_id=str(uuid.uuid4()),
                filename=name,
                mime_type="application/pdf",
                size=len(data),
                sha512=hashlib.sha512(data + (b"x" if corrupt else b"")).hexdigest(),
                content_base64=base64.b64encode(data).decode(),
            )
            for name, data in (files or {}).items()
        ]
        await self.kafka.publish(
            CaseReplyCreated(
                case_id=case_id,
                message_id=message_id,
                destination_id=DESTINATION,
                sender="Amt Musterland – Straßenverkehrsbehörde",
                title=title,
                content=content,
                attachments=attachments,
                reply_address="https://amt-musterland.example/antworten",
                retrieval_confirmation_address="http://127.0.0.1:8003/v1/read-receipts/x",
                created_at=datetime.now(UTC),
            ),
            "/ozg-router/kop-gateway",
        )
        return message_id


DESTINATION = "9a0b7c1d-0000-4000-8000-000000000001"


@pytest.fixture(scope="session")
def events(kafka: Kafka) -> Events:
    return Events(kafka)


Consumed = Callable[[str], Awaitable[None]]


@pytest.fixture(scope="session")
def consumed(mailbox_service: RunningMailbox) -> Consumed:
    """Wait until the mailbox has applied the event with this CloudEvent id (its inbox row is
    written in the handler's transaction), for tests that need events applied in a given order."""
    database: Database = mailbox_service.app.state.database

    async def applied(event_id: str) -> None:
        async def check() -> bool:
            async with database.transaction() as session:
                query = select(inbox_table.c.event_id).where(inbox_table.c.event_id == event_id)
                return await session.scalar(query) is not None

        await eventually(check)

    return applied


IsolatedMailbox = Callable[..., AbstractAsyncContextManager[tuple[RunningMailbox, Events]]]


@pytest.fixture
def isolated_mailbox(smtp: SmtpServer, tokens: TestTokens, tmp_path: Path) -> IsolatedMailbox:
    """A second mailbox on its own database and topics, for tests that change settings."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[tuple[RunningMailbox, Events]]:
        settings = await make_settings("test_mailbox_2", smtp.port, tmp_path / "blobs", **overrides)
        async with running_mailbox(settings, tokens) as service:
            kafka = Kafka(settings.topic_prefix, settings.topic_partitions or 1)
            await kafka.start()
            try:
                yield service, Events(kafka)
            finally:
                await kafka.stop()

    return start


OIDC_CLIENT_ID = "ozg-mailbox"
"""The mailbox's client id at the provider, and the audience deploy/local/oidc/config.json writes."""


class OidcProvider:
    """NAV's mock-oauth2-server, started by deploy/local/oidc.sh; every path is an issuer of its own."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def issuer(self, issuer_id: str = "citizen") -> str:
        return f"{self.base_url}/{issuer_id}"

    def mailbox_settings(self, issuer_id: str = "citizen", **overrides: Any) -> dict[str, Any]:
        """A mailbox whose citizens log in here, found by discovery (keys too); mock-oauth2-server
        writes `typ: JWT` on every token."""
        return {
            "citizen_issuer": self.issuer(issuer_id),
            "citizen_audience": OIDC_CLIENT_ID,
            "citizen_token_types": "*",
            "citizen_oidc_client_id": OIDC_CLIENT_ID,
            **overrides,
        }

    def mailbox(self, subject: str, issuer_id: str = "citizen") -> uuid.UUID:
        return mailbox_uuid(self.issuer(issuer_id), subject)

    async def sign_in(self, client: httpx.AsyncClient, authorize_url: str, subject: str) -> str:
        """Fill in the provider's login page; returns where it sends the browser back (with the code)."""
        answer = await client.post(
            authorize_url, data={"username": subject, "claims": '{"acr": "substantial"}'}
        )
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]

    async def leave_for_login(
        self, browser: httpx.AsyncClient, subject: str, next_page: str = "/web/"
    ) -> str:
        """Start a web login at the mailbox and sign in at the provider; returns the callback URL."""
        start = await browser.get("/web/auth/start", params={"next": next_page})
        assert start.status_code == 303, start.text
        return await self.sign_in(browser, start.headers["location"], subject)

    async def web_login(self, browser: httpx.AsyncClient, subject: str) -> httpx.Response:
        """A whole web login, as a browser without JavaScript does it; returns the signed-in page."""
        signed_in = await browser.get(await self.leave_for_login(browser, subject))
        assert signed_in.status_code == 200, signed_in.text
        return signed_in

    async def tokens(self, subject: str, issuer_id: str = "citizen") -> dict[str, Any]:
        """An access and ID token for `subject`, by the code flow with PKCE but without a browser."""
        verifier = base64.urlsafe_b64encode(uuid.uuid4().bytes * 3).rstrip(b"=").decode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        redirect_uri = "http://127.0.0.1/callback"
        query = {
            "response_type": "code",
            "client_id": OIDC_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": "openid citizen",
            "state": "s",
            "nonce": "n",
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
        }
        async with httpx.AsyncClient() as client:
            authorize = f"{self.issuer(issuer_id)}/authorize?{urlencode(query)}"
            back = await self.sign_in(client, authorize, subject)
            code = parse_qs(urlsplit(back).query)["code"][0]
            answer = await client.post(
                f"{self.issuer(issuer_id)}/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "client_id": OIDC_CLIENT_ID,
                    "code_verifier": verifier,
                },
            )
            assert answer.status_code == 200, answer.text
            tokens: dict[str, Any] = answer.json()
            return tokens


@pytest.fixture(scope="session")
def oidc_provider() -> OidcProvider:
    script = PROJECT_ROOT / "deploy" / "local" / "oidc.sh"
    subprocess.run([str(script), "up"], check=True, timeout=300)
    url = subprocess.run([str(script), "url"], check=True, capture_output=True, text=True).stdout
    return OidcProvider(url.strip().removesuffix("/citizen"))
