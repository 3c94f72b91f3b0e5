"""SSRF guard: the gateway only calls public HTTPS endpoints, unless the settings allow more."""

import asyncio
import ipaddress
import socket

import httpx

from ozg_kop_gateway.settings import KopGatewaySettings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The URL may not be called (scheme, or a host resolving to a non-public address)."""


class TargetGuard:
    """Checks a Zustellkanal URL right before each attempt (the DNS answer may change)."""

    def __init__(self, settings: KopGatewaySettings) -> None:
        self.allowed_hosts = {h.lower().strip("[]") for h in settings.allowed_hosts}
        self.allow_loopback = settings.allow_loopback
        self.allow_http = settings.allow_http

    async def check(self, url: str) -> None:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise TargetRefused(f"not a valid URL: {exc}") from exc
        if parsed.scheme == "http" and not self.allow_http:
            raise TargetRefused("HTTPS is required")
        if parsed.scheme not in {"http", "https"} or not parsed.host:
            raise TargetRefused("only http(s) URLs with a host can be called")
        if parsed.userinfo:
            raise TargetRefused("URLs with credentials are not allowed")
        host = parsed.host.lower()
        if host in self.allowed_hosts:
            return
        for address in await _resolve(host, parsed.port or (443 if parsed.scheme == "https" else 80)):
            if not self._permitted(address):
                raise TargetRefused(f"{host} resolves to the non-public address {address}")

    def _permitted(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if str(address) in self.allowed_hosts:
            return True
        if address.is_loopback:
            return self.allow_loopback
        return address.is_global and not address.is_multicast


async def _resolve(host: str, port: int) -> set[IPAddress]:
    try:
        return {ipaddress.ip_address(host)}
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(f"{host} does not resolve: {exc}") from exc
    return {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
