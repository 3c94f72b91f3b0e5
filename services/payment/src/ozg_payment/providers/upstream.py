"""Adapter for any XBezahldienste-compliant provider, spoken over HTTP."""

from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from ozg_payment.providers.base import ProviderError, ProviderRefused, ProviderTransaction
from ozg_payment.xbezahldienste import ProviderPaymentRequest, provider_payment_information


class XBezahldiensteUpstream:
    """Forwards payment transactions to a provider at `base_url` and asks it for their state."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, *, api_key: str = "") -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

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

    async def _call(self, method: str, url: str, json: Any = None) -> httpx.Response:
        try:
            answer = await self.client.request(method, url, headers=self.headers, json=json)
        except httpx.HTTPError as exc:
            raise ProviderError(f"{method} {url}: {exc!r}") from exc
        if answer.status_code >= 500 or answer.status_code == 429:
            raise ProviderError(f"{method} {url}: HTTP {answer.status_code}")
        if answer.status_code >= 400:
            raise ProviderRefused(f"{method} {url}: HTTP {answer.status_code} {answer.text[:500]}")
        return answer

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
