"""One attempt: check the target, sign per the destination's scheme, POST, and describe the answer."""

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from ozg_common.webhooks import sign_fit_connect_callback, sign_standard_webhook
from ozg_kop_gateway.deliveries.envelope import request_body
from ozg_kop_gateway.deliveries.policy import SLOW_DOWN_STATUSES, parse_retry_after
from ozg_kop_gateway.deliveries.pools import ConnectionPools
from ozg_kop_gateway.deliveries.targets import TargetGuard, TargetRefused
from ozg_kop_gateway.models import DeliveryKind

EXCERPT_BYTES = 500
USER_AGENT = "ozg-router-kop-gateway/0.1"


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
    """Performs attempts, each through its destination's connection pool."""

    def __init__(self, pools: ConnectionPools, guard: TargetGuard) -> None:
        self.pools = pools
        self.guard = guard

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
            await self.guard.check(target.url)
        except TargetRefused as exc:
            return outcome(error=f"refused: {exc}")
        body = request_body(job.delivery_id, job.kind, job.payload, callback=callback)
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        if target.signature_scheme == "fit-connect":
            headers |= sign_fit_connect_callback(job.secrets[0], body)
        else:
            headers |= sign_standard_webhook(job.secrets, str(job.delivery_id), body)
        try:
            async with (
                self.pools.client(job.destination_id) as client,
                client.stream("POST", target.url, content=body, headers=headers) as answer,
            ):
                excerpt = await _first_bytes(answer)
        except httpx.TimeoutException:
            return outcome(error="timeout", reached=True)
        except httpx.HTTPError as exc:
            return outcome(error=f"connection error: {type(exc).__name__}: {exc}"[:500], reached=True)
        status = answer.status_code
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


async def _first_bytes(answer: httpx.Response) -> str:
    collected = b""
    async for chunk in answer.aiter_bytes():
        collected += chunk
        if len(collected) >= EXCERPT_BYTES:
            break
    return collected[:EXCERPT_BYTES].decode("utf-8", errors="replace")
