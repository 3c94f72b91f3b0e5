"""Whose address a service sees: X-Forwarded-For counts only from a trusted proxy.

zufi keeps its rate limits per client address; if any caller could name its address in a header,
it could spread its requests over as many buckets as it likes. Behind the ingress, every caller
would otherwise be the ingress controller.
"""

import httpx
import pytest
from fastapi import FastAPI

from ozg_common.ratelimit import TokenBuckets
from ozg_common.settings import ServiceSettings
from ozg_testing import serving
from ozg_zufi.ratelimit import RateLimitMiddleware


def rate_limited_app() -> FastAPI:
    """A `/v1/` route behind zufi's rate limiter: one request per client, then 429."""
    app = FastAPI()

    @app.get("/v1/whoami")
    async def whoami() -> dict[str, str]:
        return {}

    app.add_middleware(RateLimitMiddleware, buckets=TokenBuckets(rate=0.001, burst=1))
    return app


async def _statuses(base_url: str, forwarded_for: list[str]) -> list[int]:
    async with httpx.AsyncClient(base_url=base_url) as http:
        return [
            (await http.get("/v1/whoami", headers={"X-Forwarded-For": address})).status_code
            for address in forwarded_for
        ]


@pytest.mark.parametrize("trusted", ["127.0.0.1", "127.0.0.0/8"])
async def test_a_trusted_proxy_names_the_client(trusted: str) -> None:
    settings = ServiceSettings(forwarded_allow_ips=trusted)
    async with serving(rate_limited_app(), settings=settings) as base_url:
        statuses = await _statuses(base_url, ["192.0.2.1", "192.0.2.2", "192.0.2.1"])
    assert statuses == [200, 200, 429], "each forwarded client has its own bucket"


async def test_an_untrusted_peer_cannot_choose_its_address() -> None:
    settings = ServiceSettings(forwarded_allow_ips="")
    async with serving(rate_limited_app(), settings=settings) as base_url:
        statuses = await _statuses(base_url, ["192.0.2.1", "192.0.2.2"])
    assert statuses == [200, 429], "the header is ignored: both requests come from the peer"


async def test_a_proxy_elsewhere_is_not_believed() -> None:
    settings = ServiceSettings(forwarded_allow_ips="10.0.0.0/8")
    async with serving(rate_limited_app(), settings=settings) as base_url:
        statuses = await _statuses(base_url, ["192.0.2.1", "192.0.2.2"])
    assert statuses == [200, 429]
