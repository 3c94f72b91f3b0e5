"""HTTP access to the services' admin APIs with an admin token, and problem+json as readable errors."""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import typer

SERVICES = {"zufi": 8001, "submission": 8002, "kop-gateway": 8003, "payment": 8004, "mailbox": 8005}
SHOWN_INVALID_PARAMS = 10


def service_url(service: str) -> str:
    """Base URL of a service: OZG_CLI_<SERVICE>_URL, else its default port on this host."""
    variable = "OZG_CLI_" + service.replace("-", "_").upper() + "_URL"
    return os.environ.get(variable, f"http://127.0.0.1:{SERVICES[service]}").rstrip("/")


class AdminApiError(Exception):
    """A service refused a request; the message is its problem detail, `status` its HTTP status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Credentials:
    """A ready token, or the client credentials to get one from submission's /token."""

    token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    _issued: str | None = field(default=None, init=False)

    def bearer(self, http: httpx.Client) -> str:
        if self.token:
            return self.token
        if self._issued is None:
            if not (self.client_id and self.client_secret):
                raise AdminApiError(
                    "No credentials: pass --token, or --client-id/--client-secret "
                    "(or OZG_CLI_TOKEN / OZG_CLI_CLIENT_ID / OZG_CLI_CLIENT_SECRET)."
                )
            answer = http.post(
                f"{service_url('submission')}/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "scope": "admin",
                },
            )
            self._issued = str(_json(answer)["access_token"])
        return self._issued


def _json(response: httpx.Response) -> Any:
    if response.is_success:
        return response.json() if response.content else None
    detail = response.reason_phrase
    if response.headers.get("content-type", "").startswith(("application/problem+json", "application/json")):
        body = response.json()
        detail = body.get("detail") or body.get("title") or detail
        params = body.get("invalid_params") or body.get("invalidParams") or []
        shown = [f"{p.get('name')}: {p.get('reason')}" for p in params[:SHOWN_INVALID_PARAMS]]
        if len(params) > SHOWN_INVALID_PARAMS:
            shown.append(f"... and {len(params) - SHOWN_INVALID_PARAMS} more")
        if shown:
            detail = "\n  ".join([detail, *shown])
    raise AdminApiError(
        f"{response.request.method} {response.request.url} → {response.status_code}: {detail}",
        response.status_code,
    )


class AdminClient:
    """One CLI invocation's HTTP session against the suite."""

    def __init__(self, credentials: Credentials, *, timeout: float = 60) -> None:
        self.credentials = credentials
        self.http = httpx.Client(timeout=timeout)

    def __enter__(self) -> "AdminClient":
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def request(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        return _json(self._send(method, service, path, **kwargs))

    def _send(self, method: str, service: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {self.credentials.bearer(self.http)}",
            **kwargs.pop("headers", {}),
        }
        try:
            return self.http.request(method, service_url(service) + path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise AdminApiError(f"{service} is not reachable at {service_url(service)}: {exc}") from exc

    def get_versioned(self, service: str, path: str) -> tuple[Any, str | None]:
        """A resource and its ETag, for a PUT that should only replace what was read (If-Match)."""
        response = self._send("GET", service, path)
        return _json(response), response.headers.get("etag")

    def get(self, service: str, path: str, **params: Any) -> Any:
        return self.request("GET", service, path, params={k: v for k, v in params.items() if v is not None})

    def text(self, service: str, path: str, **params: Any) -> str:
        """A GET whose answer is not JSON (e.g. CSV), as text; a refusal raises as for JSON."""
        response = self._send("GET", service, path, params={k: v for k, v in params.items() if v is not None})
        if not response.is_success:
            _json(response)
        return response.text

    def post(self, service: str, path: str, **kwargs: Any) -> Any:
        return self.request("POST", service, path, **kwargs)

    def put(self, service: str, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", service, path, **kwargs)

    def pages(self, service: str, path: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of an offset/limit paged listing."""
        offset = 0
        while True:
            page = self.get(service, path, offset=offset, limit=500, **params)
            yield from page[key]
            offset += len(page[key])
            if not page[key] or offset >= page.get("totalCount", offset):
                return


def fail(message: str) -> typer.Exit:
    """Print an error for a person and end with exit code 1."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)
