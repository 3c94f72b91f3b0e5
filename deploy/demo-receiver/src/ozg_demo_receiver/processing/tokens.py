"""Subscriber tokens from submission's `/token`, one per destination, renewed before they expire."""

import asyncio
import time
from collections.abc import Callable

import httpx


class TokenError(RuntimeError):
    """The token endpoint refused or could not be reached."""


class SubscriberTokens:
    """OAuth2 client credentials (`client_secret_post`), asking for `scope=destination:<id>`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        token_url: str,
        credentials: Callable[[], tuple[str, str]],
        *,
        margin: float = 60,
    ) -> None:
        self.http = http
        self.token_url = token_url
        self.credentials = credentials
        self.margin = margin
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = asyncio.Lock()

    async def token(self, destination_id: str) -> str:
        cached = self._tokens.get(destination_id)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        async with self._lock:
            cached = self._tokens.get(destination_id)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            token, lifetime = await self._fetch(destination_id)
            self._tokens[destination_id] = (token, time.monotonic() + max(lifetime - self.margin, 1))
            return token

    def forget(self, destination_id: str) -> None:
        """Drop a token the resource server refused (revoked, key rotated)."""
        self._tokens.pop(destination_id, None)

    async def _fetch(self, destination_id: str) -> tuple[str, float]:
        client_id, client_secret = self.credentials()
        form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": f"destination:{destination_id}",
        }
        try:
            answer = await self.http.post(self.token_url, data=form)
        except httpx.HTTPError as exc:
            raise TokenError(f"token endpoint unreachable: {exc!r}") from exc
        if answer.status_code != 200:
            raise TokenError(f"token endpoint answered {answer.status_code}: {answer.text[:300]}")
        body = answer.json()
        return str(body["access_token"]), float(body.get("expires_in", 300))
