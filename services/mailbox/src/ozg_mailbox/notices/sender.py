"""Sends staged email notices over SMTP, retrying with back-off; never blocks the consumers."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import aiosmtplib

from ozg_common.db import Database
from ozg_common.tasks import wait_until_set
from ozg_mailbox.models import Notice
from ozg_mailbox.notices import repository
from ozg_mailbox.settings import MailboxSettings

logger = logging.getLogger(__name__)

SUBJECT = "Neue Nachricht in Ihrem Postfach"
BODY = """Guten Tag,

in Ihrem Postfach ist eine neue Nachricht eingegangen.

Sie können sie nach der Anmeldung hier lesen:
{link}

Aus Gründen des Datenschutzes enthält diese E-Mail keine Inhalte der Nachricht.

Dies ist eine automatisch erzeugte E-Mail. Bitte antworten Sie nicht darauf.
"""
MAX_RETRY_DELAY = 3600.0


def notice_email(settings: MailboxSettings, recipient: str) -> EmailMessage:
    """Only that something arrived, and where to read it: no sender, title or content."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = recipient
    message["Subject"] = SUBJECT
    message.set_content(BODY.format(link=settings.web_url))
    return message


class NoticeSender:
    """Delivers due notices in batches; failures are retried later, one notice never holds up another."""

    def __init__(self, database: Database, settings: MailboxSettings, *, batch_size: int = 20) -> None:
        self.database = database
        self.settings = settings
        self.batch_size = batch_size
        self._wakeup = asyncio.Event()
        database.on_commit(self._wakeup.set)

    async def run(self) -> None:
        while True:
            sent = await self.send_due()
            if sent < self.batch_size:
                self._wakeup.clear()
                await wait_until_set(self._wakeup, self.settings.notice_poll_interval)

    async def send_due(self) -> int:
        """Work through one batch of due notices; returns how many were handled."""
        now = datetime.now(UTC)
        async with self.database.transaction() as session:
            # Replicas share the table (PostgreSQL): each notice goes out from whoever locked it.
            rows = await repository.due(
                session, now, limit=self.batch_size, skip_locked=not self.database.is_sqlite
            )
            for notice, email in rows:
                await self._deliver(notice, email)
        return len(rows)

    async def _deliver(self, notice: Notice, email: str | None) -> None:
        now = datetime.now(UTC)
        if not self.settings.smtp_host or not email:
            notice.state = "skipped"
            notice.last_error = "no SMTP server configured" if email else "no email address in the profile"
            return
        notice.attempts += 1
        try:
            await self._send(notice_email(self.settings, email))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            notice.last_error = repr(exc)[:2000]
            if notice.attempts >= self.settings.notice_max_attempts:
                notice.state = "failed"
                logger.error("email notice given up", extra={"notice_id": str(notice.id)})
                return
            delay = min(self.settings.notice_retry_base * 2 ** (notice.attempts - 1), MAX_RETRY_DELAY)
            notice.next_attempt_at = now + timedelta(seconds=delay)
            logger.warning(
                "email notice failed, will retry",
                extra={"notice_id": str(notice.id), "attempt": notice.attempts, "error": repr(exc)},
            )
            return
        notice.state = "sent"
        notice.sent_at = now
        notice.last_error = None

    async def _send(self, message: EmailMessage) -> None:
        s = self.settings
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_tls == "implicit",
            start_tls=s.smtp_tls == "starttls",
            username=s.smtp_username or None,
            password=s.smtp_password.get_secret_value() or None,
            timeout=s.smtp_timeout,
        )
