"""Rate limiting per client (token subject, else client address): a token bucket in memory.

Answers carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; an empty bucket
answers 429 with `Retry-After`.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ozg_common.auth import TokenVerifier
from ozg_common.problems import ProblemError, problem_response
from ozg_common.ratelimit import TokenBuckets
from ozg_zufi.errors import RateLimited

LIMITED_PREFIX = "/v1/"
_MAX_CLIENTS = 100_000


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
