"""Failed `/token` attempts are rationed per source address, per client id and for the whole replica.

Checking a secret costs one scrypt, deliberately slow; without a ration, anyone could spend the
service's CPU by guessing. An attempt takes its token from the address's bucket and, from an
address the client has not authenticated from lately, from the client's bucket before anything
else is done, and gets them back when the secret was right: taken afterwards, every guess in
flight would pass the check before the first failure was counted. A scrypt for a client that
exists, asked for from such a strange address, also takes a token from the replica's bucket, so
guesses from ever new addresses for ever other clients cannot use more than that budget of CPU
either. While a bucket is empty, the attempt is refused before any database or secret work, and
`TokenThrottle` refuses it before the request is even routed: under a flood of guesses, a refusal
must cost next to nothing.

Guesses for a client's id from other addresses empty the client's bucket, but they cannot lock
the client out from where it works (OWASP's "device cookie" for a machine client): an address
that authenticated as the client lately is not charged to the client's bucket nor the replica's,
only to its own address's. A client asking from an address it never authenticated from, while
its id is being guessed, waits for the guesses to stop, as any stranger would.
"""

import asyncio
import functools
import time
from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ozg_common.problems import problem_response
from ozg_common.ratelimit import TokenBuckets
from ozg_submission.errors import TokenRequestsThrottled
from ozg_submission.identity.verified import VerifiedSecrets

TOKEN_PATH = "/token"
_FORM = b"application/x-www-form-urlencoded"
_MAX_FORM_BYTES = 16 * 1024

_REPLICA = ""
_MAX_TRUSTED = 100_000
_LOOKUPS_AT_ONCE = 4


def _refused(limit: str, retry_after: int) -> TokenRequestsThrottled:
    return TokenRequestsThrottled(
        f"Too many failed token requests for this {limit}; retry after {retry_after} s.",
        limit=limit,
        headers={"Retry-After": str(retry_after)},
    )


@functools.lru_cache(maxsize=256)
def _refusal_answer(limit: str, retry_after: int) -> Response:
    """The 429 answer, rendered once per limit and wait: under a flood of guesses, building a
    problem body for every refusal would cost the event loop more than deciding it."""
    refused = _refused(limit, retry_after)
    return problem_response(refused.to_problem(TOKEN_PATH), refused.headers)


class TokenAttempts:
    """The rations of failed token requests, and the addresses each client authenticated from lately,
    per replica."""

    def __init__(
        self, rate: float, burst: int, *, checks_rate: float, checks_burst: int, trusted_seconds: float
    ) -> None:
        self.per_client = TokenBuckets(rate, burst)
        self.per_address = TokenBuckets(rate, burst)
        self.checks = TokenBuckets(checks_rate, checks_burst)
        self.trusted_seconds = trusted_seconds
        self._trusted: dict[tuple[str, str], float] = {}
        self.lookups = asyncio.Semaphore(_LOOKUPS_AT_ONCE)
        """Rationed attempts reading the registry at once: a burst of guesses (a full bucket for every
        new address) then waits its turn instead of filling the event loop's queue ahead of the
        verified clients' requests."""

    def trust(self, client_id: str, address: str) -> None:
        """Remembers that the client authenticated from `address` just now."""
        now = time.monotonic()
        if len(self._trusted) >= _MAX_TRUSTED and (client_id, address) not in self._trusted:
            self._trusted = {pair: until for pair, until in self._trusted.items() if until >= now}
            if len(self._trusted) >= _MAX_TRUSTED:
                self._trusted.clear()
        self._trusted[(client_id, address)] = now + self.trusted_seconds

    def _strange(self, client_id: str, address: str) -> bool:
        return self._trusted.get((client_id, address), 0.0) < time.monotonic()

    def refusal(self, client_id: str, address: str) -> tuple[str, int] | None:
        """Why an attempt would be refused now, and for how many seconds: the address's bucket is
        empty, or the client's for an address it did not authenticate from lately; or None."""
        quota = self.per_address.peek(address)
        if not quota.allowed:
            return "address", quota.reset
        if self._strange(client_id, address):
            quota = self.per_client.peek(client_id)
            if not quota.allowed:
                return "client", quota.reset
        return None

    def admit(self, client_id: str, address: str) -> None:
        """Charges the attempt to the address's bucket, and the client's from a strange address;
        refused while one of them is empty."""
        refused = self.refusal(client_id, address)
        if refused is not None:
            raise _refused(*refused)
        self.per_address.take(address)
        if self._strange(client_id, address):
            self.per_client.take(client_id)

    def admit_check(self, client_id: str, address: str) -> None:
        """Charges a scrypt from a strange address to the replica's budget, or refuses it while the
        budget is spent."""
        if not self._strange(client_id, address):
            return
        quota = self.checks.take(_REPLICA)
        if not quota.allowed:
            raise _refused("service", quota.reset)

    def release(self, client_id: str, address: str) -> None:
        """Gives back what `admit` charged, for an attempt that turned out not to be a failure."""
        self.per_address.give(address)
        if self._strange(client_id, address):
            self.per_client.give(client_id)

    def release_check(self, client_id: str, address: str) -> None:
        """Gives back what `admit_check` charged, for a scrypt that found the right secret."""
        if self._strange(client_id, address):
            self.checks.give(_REPLICA)


class TokenThrottle:
    """Answers a form-encoded `POST /token` whose rations are spent with 429 before FastAPI routes it,
    parses its form or opens a database session, unless it carries a secret verified lately."""

    def __init__(
        self,
        app: ASGIApp,
        attempts: TokenAttempts,
        verified: VerifiedSecrets,
        counted: Callable[[str], None],
    ) -> None:
        self.app = app
        self.attempts = attempts
        self.verified = verified
        self.counted = counted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != TOKEN_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"")
        if not content_type.startswith(_FORM):
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        body = b""
        more = True
        while more and len(body) <= _MAX_FORM_BYTES:
            message = await receive()
            received.append(message)
            body += message.get("body", b"")
            more = message.get("more_body", False)
        refused = None if more else self._refusal(scope, body)
        if refused is not None:
            self.counted(refused[0])
            await _refusal_answer(*refused)(scope, receive, send)
            return

        async def replay() -> Message:
            return received.pop(0) if received else await receive()

        await self.app(scope, replay, send)

    def _refusal(self, scope: Scope, body: bytes) -> tuple[str, int] | None:
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if self.verified.lookup(client_id, secret) is not None:
            # Whether it is still the client's current secret, the endpoint asks the registry.
            return None
        client = scope.get("client")
        return self.attempts.refusal(client_id, client[0] if client else "")
