"""HTTP connection pools, one per destination.

httpcore checks every connection of a pool (a poll syscall each) whenever a request starts or
ends, so one client shared by all destinations gets slower the more destinations it serves. A
pool per destination holds only that destination's connections, at most its lane's concurrency.
Pools open on first use and close when their destination's lane is forgotten; beyond `KEPT_IDLE`
pools with nothing in flight, the least recently used one is closed.
"""

import contextlib
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Iterable

import httpx

from ozg_kop_gateway.settings import KopGatewaySettings

KEPT_IDLE = 64
"""Idle pools kept open (the one shared client used to keep 64 idle connections)."""


class ConnectionPools:
    """An HTTP client per destination, all with the same timeout, TLS and redirect settings."""

    def __init__(self, settings: KopGatewaySettings, *, kept_idle: int = KEPT_IDLE) -> None:
        self.timeout = settings.request_timeout
        self.limits = httpx.Limits(
            max_connections=settings.destination_concurrency,
            max_keepalive_connections=settings.destination_concurrency,
        )
        # One CA bundle for all pools: loading it is most of what opening a client costs.
        self.tls = httpx.create_ssl_context(trust_env=False)
        self.kept_idle = kept_idle
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._in_flight: Counter[str] = Counter()
        self._idle: OrderedDict[str, None] = OrderedDict()
        """Destinations whose pool has nothing in flight, least recently used first."""

    @contextlib.asynccontextmanager
    async def client(self, destination_id: str) -> AsyncIterator[httpx.AsyncClient]:
        """The destination's client, for one request."""
        if destination_id not in self._clients:
            await self._trim()
        client = self._clients.get(destination_id)  # another request may have opened it meanwhile
        if client is None:
            client = self._clients[destination_id] = self._open()
        self._idle.pop(destination_id, None)
        self._in_flight[destination_id] += 1
        try:
            yield client
        finally:
            self._in_flight[destination_id] -= 1
            if self._in_flight[destination_id] <= 0:
                del self._in_flight[destination_id]
                if destination_id in self._clients:
                    self._idle[destination_id] = None

    async def close(self, destination_ids: Iterable[str]) -> None:
        """Close the pools of these destinations unless a request is using them."""
        for destination_id in destination_ids:
            if destination_id in self._idle:
                del self._idle[destination_id]
                await self._clients.pop(destination_id).aclose()

    async def aclose(self) -> None:
        """Close every pool (on shutdown, after the last request); later requests open new ones."""
        clients = list(self._clients.values())
        self._clients.clear()
        self._idle.clear()
        for client in clients:
            await client.aclose()

    async def _trim(self) -> None:
        while len(self._idle) >= self.kept_idle:
            destination_id, _ = self._idle.popitem(last=False)
            await self._clients.pop(destination_id).aclose()

    def _open(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self.timeout,
            limits=self.limits,
            verify=self.tls,
            follow_redirects=False,
            trust_env=False,
        )
