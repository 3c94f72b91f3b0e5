"""Adapter for any XBezahldienste-compliant provider, spoken over HTTP.

It logs in as the provider demands (OAuth2 client credentials, mutual TLS, or the simulated
provider's key), accepts a provider that answers with the transaction alone, and turns the
provider's error answers into the standard's codes.
"""

import ssl
from typing import Any, get_args
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from ozg_payment.errors import ErrorCode
from ozg_payment.providers.base import ProviderError, ProviderRefused, ProviderTransaction
from ozg_payment.providers.login import ClientCredentialsLogin, ProviderLogin, StaticLogin
from ozg_payment.settings import PaymentSettings
from ozg_payment.xbezahldienste import ProviderPaymentRequest, provider_payment_information

ERROR_CODES: dict[str, ErrorCode] = {code: code for code in get_args(ErrorCode)}


class XBezahldiensteUpstream:
    """Forwards payment transactions to a provider at `base_url` and asks it for their state."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, login: ProviderLogin) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.login = login

    @classmethod
    def from_settings(cls, settings: PaymentSettings) -> "XBezahldiensteUpstream":
        """The adapter with the login and TLS context the settings choose, and a client of its own."""
        tls: ssl.SSLContext | bool = True
        if settings.provider_ca_file or settings.provider_auth == "mtls":
            tls = ssl.create_default_context(cafile=settings.provider_ca_file or None)
            if settings.provider_auth == "mtls":
                tls.load_cert_chain(settings.provider_client_cert, settings.provider_client_key)
        login: ProviderLogin = StaticLogin(
            settings.provider_api_key.get_secret_value() if settings.provider_auth == "api-key" else ""
        )
        if settings.provider_auth == "oauth2":
            login = ClientCredentialsLogin(
                settings.provider_token_url,
                settings.provider_client_id,
                settings.provider_client_secret.get_secret_value(),
                settings.provider_scope,
            )
        client = httpx.AsyncClient(timeout=settings.provider_timeout, verify=tls)
        return cls(client, settings.upstream_url, login)

    async def aclose(self) -> None:
        await self.client.aclose()

    def _url(self, *parts: str) -> str:
        return "/".join([self.base_url, *(quote(part, safe="") for part in parts)])

    async def create(
        self, originator_id: str, endpoint_id: str, request: ProviderPaymentRequest
    ) -> ProviderTransaction:
        body = request.model_dump(mode="json", by_alias=True, exclude_none=True)
        answer = await self._call(
            "POST", self._url("paymenttransaction", originator_id, endpoint_id), json=body
        )
        return self._transaction(answer)

    async def status(
        self, originator_id: str, endpoint_id: str, provider_transaction_id: str
    ) -> ProviderTransaction:
        url = self._url("paymenttransaction", originator_id, endpoint_id, provider_transaction_id)
        return self._transaction(await self._call("GET", url))

    async def healthy(self, originator_id: str, endpoint_id: str) -> bool:
        try:
            await self._call("GET", self._url("status", originator_id, endpoint_id))
        except ProviderError:
            return False
        return True

    async def reachable(self, originator_id: str, endpoint_id: str) -> bool:
        """The provider is up: its status check answers, even if it refuses these ids (readiness)."""
        try:
            await self._call("GET", self._url("status", originator_id, endpoint_id))
        except ProviderRefused:
            return True
        except ProviderError:
            return False
        return True

    async def _call(self, method: str, url: str, json: Any = None) -> httpx.Response:
        answer = await self._send(method, url, json)
        if answer.status_code == 401 and self.login.refused(answer.request.headers.get("authorization", "")):
            answer = await self._send(method, url, json)
        if answer.status_code >= 500 or answer.status_code == 429:
            raise ProviderError(f"{method} {url}: HTTP {answer.status_code}")
        if answer.status_code >= 400:
            raise self._refusal(answer)
        return answer

    async def _send(self, method: str, url: str, json: Any) -> httpx.Response:
        try:
            headers = await self.login.headers(self.client)
            return await self.client.request(method, url, headers=headers, json=json)
        except httpx.HTTPError as exc:
            raise ProviderError(f"{method} {url}: {exc!r}") from exc

    @staticmethod
    def _refusal(answer: httpx.Response) -> ProviderRefused:
        """The provider's XBezahldienste error: its code and functionalText, as far as it sent them."""
        try:
            body = answer.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        code = ERROR_CODES.get(str(body.get("errorCode") or body.get("functionalCode")))
        if code is None:
            code = "FORBIDDEN" if answer.status_code in (401, 403) else "UNSPECIFIED"
        text = body.get("functionalText") or body.get("detail") or body.get("title") or answer.text[:500]
        return ProviderRefused(code, str(text), answer.status_code)

    @staticmethod
    def _transaction(answer: httpx.Response) -> ProviderTransaction:
        try:
            info = provider_payment_information(answer.json())
        except (ValueError, ValidationError) as exc:
            raise ProviderError(f"the provider's answer is no XBezahldienste transaction: {exc}") from exc
        return ProviderTransaction(
            provider_transaction_id=info.transaction_id,
            status=info.status,
            checkout_url=info.transaction_redirect_url,
            payment_method=info.payment_method,
            status_detail=info.status_detail,
        )
