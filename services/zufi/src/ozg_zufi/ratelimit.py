"""Rate limiting per client (token subject, else client address): a token bucket in memory.

Answers carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; an empty bucket
answers 429 with `Retry-After`.
"""

import math
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ozg_common.auth import TokenVerifier
from ozg_common.problems import ProblemError, problem_response
from ozg_zufi.errors import RateLimited

LIMITED_PREFIX = "/v1/"
_MAX_CLIENTS = 100_000


@dataclass(frozen=True, slots=True)
class Quota:
    """The outcome of one request against its client's bucket."""

    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(self.remaining).encode()),
            (b"ratelimit-reset", str(self.reset).encode()),
        ]
        if not self.allowed:
            headers.append((b"retry-after", str(self.reset).encode()))
        return headers


class TokenBuckets:
    """`burst` requests at once per client, refilled at `rate` per second."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client: str) -> Quota:
        now = time.monotonic()
        tokens, stamp = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - stamp) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if len(self._buckets) >= _MAX_CLIENTS and client not in self._buckets:
            self._forget_full(now)
        self._buckets[client] = (tokens, now)
        missing = (1.0 - tokens) if not allowed else (self.burst - tokens)
        return Quota(allowed, self.burst, int(tokens), math.ceil(missing / self.rate) if missing > 0 else 0)

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled completely holds no information.
        full_after = self.burst / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}


class RateLimitMiddleware:
    """Applies the client's quota to every `/v1/` request."""

    def __init__(self, app: ASGIApp, buckets: TokenBuckets) -> None:
        self.app = app
        self.buckets = buckets
        self._subjects: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(LIMITED_PREFIX):
            await self.app(scope, receive, send)
            return
        quota = self.buckets.take(await self._client(scope))
        if not quota.allowed:
            error = RateLimited("Too many requests from this client; retry after RateLimit-Reset seconds.")
            response = problem_response(error.to_problem(scope["path"]))
            response.raw_headers.extend(quota.headers())
            await response(scope, receive, send)
            return

        async def send_with_quota(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *quota.headers()]
            await send(message)

        await self.app(scope, receive, send_with_quota)

    async def _client(self, scope: Scope) -> str:
        token = _bearer(scope)
        if token:
            subject = self._subjects.get(token)
            if subject is None:
                verifier: TokenVerifier = scope["app"].state.token_verifier
                try:
                    subject = (await verifier.verify(token)).subject
                except ProblemError:
                    subject = ""
                if len(self._subjects) >= _MAX_CLIENTS:
                    self._subjects.clear()
                self._subjects[token] = subject
            if subject:
                return "sub:" + subject
        client = scope.get("client")
        return "ip:" + (client[0] if client else "unknown")


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None
