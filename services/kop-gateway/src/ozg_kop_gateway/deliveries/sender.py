"""One attempt: check the target, sign per the destination's scheme, POST, and describe the answer."""

import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import certifi

from ozg_common.webhooks import (
    SLOW_DOWN_STATUSES,
    TargetRefused,
    parse_retry_after,
    sign_fit_connect_callback,
    sign_standard_webhook,
)
from ozg_kop_gateway.deliveries.envelope import request_body
from ozg_kop_gateway.deliveries.targets import GuardedResolver, target_guard
from ozg_kop_gateway.models import DeliveryKind
from ozg_kop_gateway.settings import KopGatewaySettings

EXCERPT_BYTES = 500
USER_AGENT = "ozg-router-kop-gateway/0.1"
KEEP_ALIVE = 4.0
"""Seconds an idle connection is kept: below the 5 s after which many servers (uvicorn) close one,
so a request never goes out on a connection the receiver is closing."""


@dataclass(frozen=True)
class Target:
    """The destination as the read model has it at the moment of the attempt."""

    url: str | None
    channel_type: str
    signature_scheme: str
    status: str


@dataclass(frozen=True)
class Job:
    """A claimed delivery, ready for one attempt."""

    delivery_id: uuid.UUID
    kind: DeliveryKind
    destination_id: str
    case_id: str
    submission_id: str | None
    payload: dict[str, Any]
    attempt: int
    expires_at: datetime
    target: Target | None
    secrets: list[str]


@dataclass(frozen=True)
class Outcome:
    """What one attempt found out."""

    started_at: datetime
    duration_ms: float
    url: str | None
    status_code: int | None = None
    error: str | None = None
    excerpt: str | None = None
    retry_after: float | None = None
    final: bool = False
    """No retry can help (410 Gone, destination deleted): dead-letter now."""
    reached: bool = False
    """An HTTP exchange was tried; only those count for the circuit breaker."""
    callback: bool = False
    """The request was a FIT-Connect new-submissions callback, not the application itself."""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def describe(self) -> str:
        if self.error:
            return self.error
        return f"HTTP {self.status_code}"


class Sender:
    """Performs attempts over one HTTP client for all destinations.

    The client needs no per-host connection limit: each destination's lane bounds its attempts in
    flight (lanes.py), and destinations sharing a host (one IT provider serving many municipalities)
    must not share one limit. aiohttp rather than httpx: its C HTTP parser makes an attempt cost a
    fraction of the CPU (bench/README.md). Opened on first use, inside the event loop.
    """

    def __init__(self, settings: KopGatewaySettings) -> None:
        self.guard = target_guard(settings)
        self.timeout = aiohttp.ClientTimeout(total=settings.request_timeout)
        self.max_connections = settings.max_in_flight
        self.tls = ssl.create_default_context(cafile=certifi.where())
        self._client: aiohttp.ClientSession | None = None

    async def attempt(self, job: Job) -> Outcome:
        started_at = datetime.now(UTC)
        clock = time.perf_counter()

        def outcome(**fields: Any) -> Outcome:
            elapsed = (time.perf_counter() - clock) * 1000
            url = job.target.url if job.target else None
            return Outcome(started_at=started_at, duration_ms=elapsed, url=url, **fields)

        target = job.target
        if target is None:
            return outcome(error="destination unknown: no zufi event for it yet")
        if target.status == "deleted":
            return outcome(error="destination deleted", final=True)
        if target.status != "active":
            return outcome(error=f"destination {target.status}")
        callback = target.channel_type == "fitconnect"
        if callback and job.kind is not DeliveryKind.SUBMISSION:
            return outcome(
                error="callback-mode destinations only receive new-submission callbacks", final=True
            )
        if not target.url:
            return outcome(error="destination has no Zustellkanal URL")
        try:
            self.guard.check(target.url)
        except TargetRefused as exc:
            return outcome(error=f"refused: {exc}")
        body = request_body(job.delivery_id, job.kind, job.payload, callback=callback)
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        if target.signature_scheme == "fit-connect":
            headers |= sign_fit_connect_callback(job.secrets[0], body)
        else:
            headers |= sign_standard_webhook(job.secrets, str(job.delivery_id), body)
        try:
            async with self.client().post(
                target.url, data=body, headers=headers, allow_redirects=False
            ) as answer:
                excerpt = await _first_bytes(answer)
        except TargetRefused as exc:  # by the resolver, before connecting
            return outcome(error=f"refused: {exc}")
        except TimeoutError:
            return outcome(error="timeout", reached=True)
        except aiohttp.ClientError as exc:
            error = _storable(f"connection error: {type(exc).__name__}: {exc}"[:500])
            return outcome(error=error, reached=True)
        status = answer.status
        retry_after = (
            parse_retry_after(answer.headers.get("retry-after")) if status in SLOW_DOWN_STATUSES else None
        )
        return outcome(
            status_code=status,
            excerpt=excerpt,
            retry_after=retry_after,
            final=status == 410,
            error="410 Gone: the endpoint asked to be disabled" if status == 410 else None,
            reached=True,
            callback=callback,
        )

    def client(self) -> aiohttp.ClientSession:
        if self._client is None:
            self._client = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.max_connections,
                    ssl=self.tls,
                    resolver=GuardedResolver(self.guard),
                    keepalive_timeout=KEEP_ALIVE,
                ),
                timeout=self.timeout,
                cookie_jar=aiohttp.DummyCookieJar(),  # one destination's cookies are not another's
                trust_env=False,
            )
        return self._client

    async def aclose(self) -> None:
        """Close the client (on shutdown, after the last attempt); a later attempt opens a new one."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()


async def _first_bytes(answer: aiohttp.ClientResponse) -> str:
    collected = b""
    while len(collected) < EXCERPT_BYTES:
        chunk = await answer.content.read(EXCERPT_BYTES - len(collected))
        if not chunk:
            break
        collected += chunk
    return _storable(collected.decode("utf-8", errors="replace"))


def _storable(text: str) -> str:
    # PostgreSQL text cannot hold NUL: one endpoint answering with it would fail the INSERT of
    # its whole batch of outcomes, again on every retry.
    return text.replace("\x00", "\ufffd")
