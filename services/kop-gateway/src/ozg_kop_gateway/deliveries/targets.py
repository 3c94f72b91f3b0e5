"""The SSRF guard (ozg_common.webhooks) where aiohttp opens connections: the addresses a host name
resolves to are checked by the client's own resolver, so only a checked answer is connected to."""

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from ozg_common.webhooks import TargetGuard, TargetRefused
from ozg_kop_gateway.settings import KopGatewaySettings


def target_guard(settings: KopGatewaySettings) -> TargetGuard:
    """The guard of the gateway's deliveries, as its settings allow."""
    return TargetGuard(
        allowed_hosts=settings.allowed_hosts,
        allow_loopback=settings.allow_loopback,
        allow_http=settings.allow_http,
    )


class GuardedResolver(AbstractResolver):
    """aiohttp's threaded resolver (getaddrinfo), refusing answers the guard does not permit."""

    def __init__(self, guard: TargetGuard) -> None:
        self.guard = guard
        self.resolver = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            found = await self.resolver.resolve(host, port, family)
        except OSError as exc:
            raise TargetRefused(f"{host} does not resolve: {exc}") from exc
        self.guard.check_addresses(host, [ipaddress.ip_address(answer["host"]) for answer in found])
        return found

    async def close(self) -> None:
        await self.resolver.close()
