"""SSRF guard: the gateway only calls public HTTPS endpoints, unless the settings allow more.

The URL is checked before each attempt (scheme, credentials, an address written into it); the
addresses a host name resolves to are checked by the resolver of the HTTP client, when it opens a
connection. Only the checked answer is ever connected to, so a DNS answer that changes between a
check and the connect (rebinding) cannot reach an internal address.
"""

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from ozg_kop_gateway.settings import KopGatewaySettings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
"""RFC 6052: a NAT64 gateway connects to the IPv4 address in the last 32 bits; Python counts the
prefix as global whatever it embeds."""
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
"""RFC 8215: an operator's own translation prefix, never a public destination."""


class TargetRefused(Exception):
    """The URL may not be called (scheme, or a host resolving to a non-public address)."""


class TargetGuard:
    """Which URLs and addresses the gateway may call."""

    def __init__(self, settings: KopGatewaySettings) -> None:
        self.allowed_hosts = {h.lower().strip("[]") for h in settings.allowed_hosts}
        self.allow_loopback = settings.allow_loopback
        self.allow_http = settings.allow_http

    def check(self, url: str) -> None:
        """Refuses what no DNS answer can make callable; a host name's addresses are checked on connect."""
        try:
            parsed = URL(url)
        except (ValueError, TypeError) as exc:
            raise TargetRefused(f"not a valid URL: {exc}") from exc
        if parsed.scheme == "http" and not self.allow_http:
            raise TargetRefused("HTTPS is required")
        if parsed.scheme not in {"http", "https"} or not parsed.raw_host:
            raise TargetRefused("only http(s) URLs with a host can be called")
        if parsed.user is not None or parsed.password is not None:
            raise TargetRefused("URLs with credentials are not allowed")
        host = parsed.raw_host.lower()  # as the client resolves it (IDNA-encoded)
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            if ":" in host or host.replace(".", "").isdigit():
                # 127.1, 2130706433, fe80::1%25eth0: the client takes these for addresses, unresolved.
                raise TargetRefused(f"{host} is not a canonical IP address") from None
            return
        self.check_addresses(host, [address])

    def check_addresses(self, host: str, addresses: list[IPAddress]) -> None:
        if host.lower() in self.allowed_hosts:
            return
        for address in addresses:
            if not self._permitted(address):
                raise TargetRefused(f"{host} resolves to the non-public address {address}")

    def _permitted(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address):
            if address in NAT64_LOCAL_USE:
                return str(address) in self.allowed_hosts
            if address in NAT64_WELL_KNOWN:
                address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
            elif address.ipv4_mapped is not None:
                address = address.ipv4_mapped
        if str(address) in self.allowed_hosts:
            return True
        if address.is_loopback:
            return self.allow_loopback
        return address.is_global and not address.is_multicast


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
