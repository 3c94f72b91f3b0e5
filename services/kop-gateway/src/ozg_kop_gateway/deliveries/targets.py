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

from ozg_kop_gateway.deliveries.hosts import host_name, network
from ozg_kop_gateway.settings import KopGatewaySettings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

EMBEDDING_IPV4 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::ffff:0:0:0/96"))
"""Prefixes whose last 32 bits are the IPv4 address a translator connects to: NAT64's well-known
prefix (RFC 6052) and SIIT's (RFC 2765). Python counts both as global whatever they embed."""
NEVER_PUBLIC = (ipaddress.IPv6Network("64:ff9b:1::/48"), ipaddress.IPv6Network("::/96"))
"""An operator's own NAT64 prefix (RFC 8215) and the deprecated IPv4-compatible addresses: no
public endpoint has one, whatever Python's `is_global` says."""


def _reached(address: IPAddress) -> IPAddress | None:
    """The address a connection to `address` ends up at, as far as can be told (the IPv4 address
    inside a mapped, 6to4 or translated IPv6 address); None for one that is never public."""
    if isinstance(address, ipaddress.IPv4Address) or address.is_loopback:
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in prefix for prefix in EMBEDDING_IPV4):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.is_site_local or any(address in prefix for prefix in NEVER_PUBLIC):
        return None
    return address


class TargetRefused(Exception):
    """The URL may not be called (scheme, or a host resolving to a non-public address)."""


class TargetGuard:
    """Which URLs and addresses the gateway may call."""

    def __init__(self, settings: KopGatewaySettings) -> None:
        # Entries are canonical already (KopGatewaySettings): networks, and names as URLs carry them.
        networks = {entry: network(entry) for entry in settings.allowed_hosts}
        self.allowed_networks = [found for found in networks.values() if found is not None]
        self.allowed_names = {entry for entry, found in networks.items() if found is None}
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
        if self.allowed_names and host_name(host) in self.allowed_names:
            return
        for address in addresses:
            if not self._permitted(address):
                raise TargetRefused(f"{host} resolves to the non-public address {address}")

    def _allowed(self, address: IPAddress) -> bool:
        return any(address in allowed for allowed in self.allowed_networks)

    def _permitted(self, address: IPAddress) -> bool:
        if self._allowed(address):
            return True
        reached = _reached(address)
        if reached is None:
            return False
        if self._allowed(reached):
            return True
        if reached.is_loopback:
            return self.allow_loopback
        return reached.is_global and not reached.is_multicast


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
