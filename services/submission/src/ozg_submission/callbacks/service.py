"""Sender callbacks: checked when registered, then delivered by a worker with retries.

The worker needs no hook in the event log's writers: a registration counts the entries the sender
has been told of, and a callback is due whenever the log has more. A callback only says "there is
something new" (FIT-Connect's body names submissions, not events): one call covers every entry
added since the last, and a sender that was down is called once it answers again.
"""

import asyncio
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.bulk import Rows
from ozg_common.webhooks import (
    SLOW_DOWN_STATUSES,
    TargetGuard,
    TargetRefused,
    fit_connect_callback_body,
    parse_retry_after,
    sign_fit_connect_callback,
)
from ozg_submission.callbacks import repository
from ozg_submission.callbacks.repository import DueCallback
from ozg_submission.callbacks.schemas import CallbackSetup
from ozg_submission.errors import CallbackInvalid
from ozg_submission.settings import SubmissionSettings
from ozg_submission.state import SubmissionState

logger = logging.getLogger(__name__)

NEW_EVENTS_CALLBACK = "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-events"
"""Type of the callback a sender gets when its submission's event log grows. FITKO names it the
NewEvents callback (fit-connect/planning#121); no published document we have spells its URI, so it
follows the pattern of the subscribers' `new-submissions`."""

MIN_SECRET_LENGTH = 32
"""Characters a secret needs at least: the HMAC key is the secret's bytes as given."""
JITTER = 0.2
EXCERPT = 300


def registration(
    settings: SubmissionSettings, submission_id: uuid.UUID, setup: CallbackSetup, announced_entries: int
) -> tuple[Table, Rows]:
    """The row registering `setup` for a new submission whose log starts with `announced_entries`
    entries (the sender made those itself), to be inserted with it; refused with `CallbackInvalid`
    if it cannot be used."""
    _check_url(settings, setup.url)
    secret = setup.secret
    if len(secret) < MIN_SECRET_LENGTH:
        raise CallbackInvalid(f"callback.secret needs at least {MIN_SECRET_LENGTH} characters.")
    if not secret.isascii() or not secret.isprintable():
        raise CallbackInvalid("callback.secret must consist of printable ASCII characters.")
    return repository.TABLE, [repository.registration(submission_id, setup.url, secret, announced_entries)]


def _check_url(settings: SubmissionSettings, url: str) -> None:
    if any(c.isspace() or not c.isprintable() for c in url):
        raise CallbackInvalid("callback.url must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is no number
    except ValueError as exc:
        raise CallbackInvalid(f"callback.url is not a URL: {exc}.") from exc
    if parts.fragment:
        raise CallbackInvalid("callback.url must not have a fragment.")
    try:
        callback_guard(settings).check(url)
    except TargetRefused as exc:
        raise CallbackInvalid(f"callback.url is refused: {exc}.") from exc


def callback_guard(settings: SubmissionSettings) -> TargetGuard:
    """The SSRF guard of sender callbacks: a sender's URL must not reach into the suite's own network."""
    return TargetGuard(
        allowed_hosts=settings.callback_allowed_hosts,
        allow_loopback=settings.callback_allow_loopback,
        allow_http=settings.callback_allow_http,
    )


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a call was not taken, and what the sender's answer asked for."""

    error: str
    gone: bool = False
    """410 Gone: the sender asks to be called no more."""
    retry_after: float | None = None
    """Seconds the sender asked to wait (Retry-After of a slow-down answer)."""


class SenderCallbacks:
    """Calls the senders whose submissions have new events; `run` polls forever."""

    def __init__(self, state: SubmissionState) -> None:
        self.state = state
        self.settings = state.settings
        self.guard = callback_guard(state.settings)
        self._client: httpx.AsyncClient | None = None

    async def run(self) -> None:
        try:
            while True:
                if not await self.run_once():
                    await asyncio.sleep(self.settings.callback_poll_interval)
        finally:
            if self._client is not None:
                await self._client.aclose()

    async def run_once(self) -> int:
        """Claim the due callbacks, call them all, record each outcome; returns how many were due."""
        now = datetime.now(UTC)
        lease = timedelta(seconds=self.settings.callback_timeout + 30)
        database = self.state.runtime.database
        async with database.transaction() as session:
            due = await repository.claim_due(
                session, now, now + lease, self.settings.callback_batch, lock=not database.is_sqlite
            )
        if not due:
            return 0
        failures = await asyncio.gather(*(self.call(callback) for callback in due))
        async with database.transaction() as session:
            for callback, failure in zip(due, failures, strict=True):
                await self._record(session, callback, failure)
        return len(due)

    async def call(self, callback: DueCallback) -> Failure | None:
        """POST one callback; None when the sender took it, else why not."""
        body = fit_connect_callback_body(
            NEW_EVENTS_CALLBACK,
            [
                {
                    "destinationId": callback.destination_id,
                    "submissionId": str(callback.submission_id),
                    "caseId": str(callback.case_id),
                }
            ],
        )
        headers = {"content-type": "application/json", **sign_fit_connect_callback(callback.secret, body)}
        parts = urlsplit(callback.url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            # Called at the checked address, not by name: a DNS answer that changes after the
            # check cannot steer the call elsewhere.
            address = (await self.guard.resolve(host, port))[0]
        except TargetRefused as exc:
            return Failure(f"refused: {exc}")
        netloc = f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
        try:
            answer = await self.client().post(
                parts._replace(netloc=netloc).geturl(),
                content=body,
                # The sender's server sees its own name, and its certificate is checked against it.
                headers={**headers, "host": parts.netloc},
                extensions={"sni_hostname": host},
            )
        except httpx.HTTPError as exc:
            return Failure(f"{type(exc).__name__}: {exc}"[:EXCERPT])
        status = answer.status_code
        if 200 <= status < 300:
            return None
        return Failure(
            f"HTTP {status}: {answer.text[:EXCERPT]}",
            gone=status == 410,
            retry_after=parse_retry_after(answer.headers.get("retry-after"))
            if status in SLOW_DOWN_STATUSES
            else None,
        )

    async def _record(self, session: AsyncSession, callback: DueCallback, failure: Failure | None) -> None:
        now = datetime.now(UTC)
        if failure is None:
            await repository.announced(session, callback.submission_id, callback.entries, now)
            return
        failures = callback.failures + 1
        failing_since = callback.failing_since or now
        expired = now - failing_since >= self.settings.callback_retry_horizon
        next_attempt_at = (
            None
            if failure.gone or expired
            else now + timedelta(seconds=self._delay(failures, failure.retry_after))
        )
        if next_attempt_at is None:
            logger.warning(
                "sender callback given up",
                extra={"submission_id": str(callback.submission_id), "error": failure.error},
            )
        await repository.failed(
            session,
            callback.submission_id,
            failures=failures,
            failing_since=failing_since,
            next_attempt_at=next_attempt_at,
            error=failure.error,
        )

    def _delay(self, failures: int, retry_after: float | None) -> float:
        schedule = self.settings.callback_retry_schedule
        base = schedule[failures - 1] if failures <= len(schedule) else self.settings.callback_retry_interval
        delay = base * (1 + random.uniform(-JITTER, JITTER))
        if retry_after is not None:  # the sender's wish, within the longest regular wait
            delay = max(delay, min(retry_after, self.settings.callback_retry_interval))
        return delay

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            # Redirects are not followed: the URL checked at registration is the one called.
            self._client = httpx.AsyncClient(
                timeout=self.settings.callback_timeout, follow_redirects=False, trust_env=False
            )
        return self._client
