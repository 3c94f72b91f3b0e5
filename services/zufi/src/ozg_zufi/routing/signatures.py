"""destinationSignature as FITKO issues it: a PS512 JWS over the route's destination, service and area.

Header `{"alg": "PS512", "typ": "JWT", "kid"}`; claims `submissionHost`, `iss`, `services:
[{gebietIDs, leistungIDs}]` (URNs), `destinationId`, `iat`, `jti` (no `exp`). A PS512 signature with
a 4096-bit key costs milliseconds, far more than a lookup: each route is signed once and kept.
"""

import asyncio
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.jwk import RSAKey

from ozg_common.keys import load_or_create_rsa_key
from ozg_zufi.identifiers import LEIKA_URN_PREFIX

SIGNATURE_ALGORITHM = "PS512"
SIGNING_KEY_BITS = 4096
GEBIET_URN_PREFIX = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:"


@dataclass(frozen=True, slots=True)
class SignedRoute:
    """What a destinationSignature binds: the destination offers the service in the area (ARS)."""

    destination_id: str
    leika_key: str
    ars: str


def route_claims(route: SignedRoute, *, issuer: str, submission_host: str) -> dict[str, Any]:
    """The claims FITKO's destinationSignature carries, for one route."""
    return {
        "submissionHost": submission_host,
        "iss": issuer,
        "services": [
            {
                "gebietIDs": [GEBIET_URN_PREFIX + route.ars],
                "leistungIDs": [LEIKA_URN_PREFIX + route.leika_key],
            }
        ],
        "destinationId": route.destination_id,
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
    }


@dataclass(frozen=True)
class SigningKeys:
    """zufi's signing key and, during a rotation's overlap, the one before it (published, not used)."""

    current: RSAKey
    previous: RSAKey | None = None

    @classmethod
    def load(cls, path: Path) -> "SigningKeys":
        """The key at `path` (created on first start) and the previous one beside it, if kept."""
        current = load_or_create_rsa_key(path, bits=SIGNING_KEY_BITS)
        previous_path = previous_key_path(path)
        previous = load_or_create_rsa_key(previous_path) if previous_path.exists() else None
        return cls(current, previous)

    def published(self) -> list[RSAKey]:
        return [key for key in (self.current, self.previous) if key is not None]


def previous_key_path(path: Path) -> Path:
    return path.with_name(path.stem + ".previous" + path.suffix)


def rotate_signing_key(path: Path) -> RSAKey:
    """A new signing key at `path`; the one it replaces stays published (at its previous path) so
    that signatures handed out before keep verifying until the next rotation."""
    if path.exists():
        path.replace(previous_key_path(path))
    return load_or_create_rsa_key(path, bits=SIGNING_KEY_BITS)


class RouteSigner:
    """Signs routes with zufi's current key; keeps the newest `capacity` signatures (LRU)."""

    def __init__(self, key: RSAKey, issuer: str, submission_host: str, *, capacity: int) -> None:
        self.key = key
        self.issuer = issuer
        self.submission_host = submission_host
        self.capacity = capacity
        self._cache: OrderedDict[SignedRoute, str] = OrderedDict()

    def sign(self, route: SignedRoute) -> str:
        claims = route_claims(route, issuer=self.issuer, submission_host=self.submission_host)
        header = {"alg": SIGNATURE_ALGORITHM, "typ": "JWT", "kid": self.key.kid}
        payload = json.dumps(claims, ensure_ascii=False).encode()
        return jws.serialize_compact(header, payload, self.key, algorithms=[SIGNATURE_ALGORITHM])

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
