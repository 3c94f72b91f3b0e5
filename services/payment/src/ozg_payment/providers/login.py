"""How payment logs in at a provider: a static bearer key, or an OAuth2 client-credentials token.

Mutual TLS needs no header: the client certificate is part of the HTTP client's TLS context.
"""

import asyncio
import time
from typing import Protocol

import httpx

from ozg_payment.providers.base import ProviderError, ProviderRefused

REFRESH_MARGIN = 30.0
"""Seconds before a token's expiry at which it is replaced (at most half its lifetime)."""


class ProviderLogin(Protocol):
    """The credential a provider call carries."""

    async def headers(self, client: httpx.AsyncClient) -> dict[str, str]:
        """The headers that authenticate the next call."""
        ...

    def refused(self, authorization: str) -> bool:
        """The provider answered 401 to `authorization`: drop that credential; True when a fresh
        one may help."""
        ...


class StaticLogin:
    """A fixed bearer key (the simulated provider), or nothing (mutual TLS)."""

    def __init__(self, api_key: str = "") -> None:
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    async def headers(self, client: httpx.AsyncClient) -> dict[str, str]:
        return self._headers

    def refused(self, authorization: str) -> bool:
        return False


class ClientCredentialsLogin:
    """An OAuth2 client-credentials token (client_secret_post), kept until shortly before it expires."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str = "",
    ) -> None:
        self.token_url = token_url
        self.form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        if scope:
            self.form["scope"] = scope
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def headers(self, client: httpx.AsyncClient) -> dict[str, str]:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                await self._fetch(client)
            return {"Authorization": f"Bearer {self._token}"}

    def refused(self, authorization: str) -> bool:
        # Calls that were refused together drop the token once; a later one keeps its successor.
        if authorization == f"Bearer {self._token}":
            self._token = None
        return True

    async def _fetch(self, client: httpx.AsyncClient) -> None:
        try:
            answer = await client.post(self.token_url, data=self.form)
        except httpx.HTTPError as exc:
            raise ProviderError(f"token endpoint {self.token_url}: {exc!r}") from exc
        if answer.status_code >= 500:
            raise ProviderError(f"token endpoint {self.token_url}: HTTP {answer.status_code}")
        if answer.status_code >= 400:
            raise ProviderRefused(
                "FORBIDDEN",
                f"the provider refused payment's client credentials: {answer.text[:500]}",
                answer.status_code,
            )
        try:
            body = answer.json()
            token, lifetime = str(body["access_token"]), float(body.get("expires_in", 60))
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderError(f"token endpoint {self.token_url} answered no token") from exc
        self._token = token
        self._renew_at = time.monotonic() + lifetime - min(REFRESH_MARGIN, lifetime / 2)
