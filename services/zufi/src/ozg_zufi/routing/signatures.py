"""destinationSignature: a JWS by zufi binding destination, service and area, signed once and cached.

RSA signing costs about a millisecond, far more than a lookup; the cache makes a repeated route free.
"""

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from joserfc import jws
from joserfc.jwk import RSAKey

SIGNATURE_ALGORITHM = "RS256"


@dataclass(frozen=True, slots=True)
class SignedRoute:
    """What a destinationSignature binds."""

    destination_id: str
    leika_key: str
    ars: str
    area_name: str


class RouteSigner:
    """Signs route bindings with zufi's key; keeps the newest `capacity` signatures (LRU)."""

    def __init__(self, key: RSAKey, issuer: str, *, capacity: int) -> None:
        self.key = key
        self.issuer = issuer
        self.capacity = capacity
        self._cache: OrderedDict[SignedRoute, str] = OrderedDict()

    def sign(self, route: SignedRoute) -> str:
        payload = {
            "iss": self.issuer,
            "iat": int(time.time()),
            "destinationId": route.destination_id,
            "leikaKey": route.leika_key,
            "ars": route.ars,
            "areaName": route.area_name,
        }
        header = {"alg": SIGNATURE_ALGORITHM, "kid": self.key.kid, "typ": "JWT"}
        return jws.serialize_compact(header, json.dumps(payload, ensure_ascii=False).encode(), self.key)

    async def signatures(self, routes: Sequence[SignedRoute]) -> list[str]:
        """The signature of each route; missing ones are signed off the event loop."""
        cache = self._cache
        missing = [route for route in dict.fromkeys(routes) if route not in cache]
        if missing:
            signed = await asyncio.to_thread(lambda: [self.sign(route) for route in missing])
            for route, token in zip(missing, signed, strict=True):
                cache[route] = token
            while len(cache) > self.capacity:
                cache.popitem(last=False)
        tokens = []
        for route in routes:
            cache.move_to_end(route)
            tokens.append(cache[route])
        return tokens
