"""kop-gateway's return channel: acknowledgement, status and replies for one's own cases."""

import base64
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from ozg_demo_receiver.processing.tokens import SubscriberTokens

CaseStatus = Literal["RECEIVED", "PROCESSING", "ACTION_REQUIRED", "COMPLETED"]
_IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1e0c5e-3d0b-4c39-9a3e-0d5f3f0f7d21")


class ReturnChannelError(RuntimeError):
    """The gateway did not take the answer; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class PdfAttachment:
    filename: str
    content: bytes


class ReturnChannel:
    """Answers a case as its destination, with a subscriber token for that destination."""

    def __init__(self, http: httpx.AsyncClient, gateway_url: str, tokens: SubscriberTokens) -> None:
        self.http = http
        self.gateway_url = gateway_url.rstrip("/")
        self.tokens = tokens

    async def acknowledge(
        self, destination_id: str, case_id: str, decision: Literal["accept", "reject"], problems: list[Any]
    ) -> None:
        body = {"decision": decision, "problems": problems}
        # A decision already recorded (we crashed after sending it) is no reason to fail.
        await self._post(destination_id, case_id, "acknowledgement", body, done_on_conflict=True)

    async def status(self, destination_id: str, case_id: str, status: CaseStatus, note: str) -> None:
        await self._post(destination_id, case_id, "status", {"status": status, "note": note})

    async def reply(
        self, destination_id: str, case_id: str, title: str, content: str, attachments: list[PdfAttachment]
    ) -> None:
        body = {
            "title": title,
            "content": content,
            "attachments": [
                {
                    "filename": a.filename,
                    "mimeType": "application/pdf",
                    "contentBase64": base64.b64encode(a.content).decode(),
                }
                for a in attachments
            ],
        }
        await self._post(destination_id, case_id, "replies", body)

    async def fetch_json(self, destination_id: str, url: str) -> dict[str, Any]:
        """A submission picked up from submission's subscriber API."""
        answer = await self._send(destination_id, "GET", url, None, None)
        if answer.status_code != 200:
            raise ReturnChannelError(
                f"GET {url} answered {answer.status_code}", retryable=answer.status_code >= 500
            )
        document: dict[str, Any] = answer.json()
        return document

    async def download(self, destination_id: str, url: str) -> str:
        """An attachment the gateway did not inline, fetched from submission as the destination."""
        answer = await self._send(destination_id, "GET", url, None, None)
        if answer.status_code != 200:
            raise ReturnChannelError(
                f"attachment download answered {answer.status_code}", retryable=answer.status_code >= 500
            )
        return answer.text.strip()

    async def _post(
        self,
        destination_id: str,
        case_id: str,
        what: str,
        body: dict[str, Any],
        *,
        done_on_conflict: bool = False,
    ) -> None:
        url = f"{self.gateway_url}/v1/cases/{case_id}/{what}"
        # The same answer sent twice (a retry after a crash) carries the same key.
        key = str(uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"{case_id}/{what}/{body.get('status', '')}"))
        answer = await self._send(destination_id, "POST", url, body, key)
        if answer.is_success or (done_on_conflict and answer.status_code == 409):
            return
        retryable = answer.status_code >= 500 or answer.status_code in {401, 404, 408, 425, 429}
        raise ReturnChannelError(
            f"{what} answered {answer.status_code}: {answer.text[:300]}", retryable=retryable
        )

    async def _send(
        self, destination_id: str, method: str, url: str, body: dict[str, Any] | None, key: str | None
    ) -> httpx.Response:
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {await self.tokens.token(destination_id)}"}
            if key:
                headers["Idempotency-Key"] = key
            try:
                answer = await self.http.request(method, url, json=body, headers=headers)
            except httpx.HTTPError as exc:
                raise ReturnChannelError(f"{method} {url} failed: {exc!r}", retryable=True) from exc
            if answer.status_code != 401 or attempt:
                return answer
            self.tokens.forget(destination_id)
        raise AssertionError("unreachable")
