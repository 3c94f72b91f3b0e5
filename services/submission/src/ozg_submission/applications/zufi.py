"""Asking zufi where an application goes, and checking the routes it signed."""

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from ozg_common.keys import JwksCache, KeysUnavailable
from ozg_submission.errors import (
    AmbiguousArea,
    InvalidApplication,
    InvalidDestinationSignature,
    RouteNotFound,
    ZufiUnavailable,
)

# FITKO's destinationSignature: PS512 with an RSA key of at least 3072 bits, `typ` JWT, a `kid`.
SIGNATURE_ALGORITHMS = ["PS512"]
MIN_KEY_BITS = 3072
GEBIET_URN_PREFIX = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:"
LEISTUNG_URN_PREFIX = "urn:de:fim:leika:leistung:"


@dataclass(frozen=True, slots=True)
class Route:
    """A destination zufi vouched for, for one service in one area."""

    destination_id: str
    leika_key: str
    ars: str
    area_name: str


@dataclass(frozen=True, slots=True)
class SignedServices:
    """What a verified destinationSignature binds: the destination and its `services` entries."""

    destination_id: str
    services: tuple[tuple[frozenset[str], frozenset[str]], ...]
    """(ARS of the areas, LeiKa keys) of each entry, read from their URNs."""

    @classmethod
    def of(cls, claims: Any) -> "SignedServices":
        try:
            destination_id = claims["destinationId"]
            entries = [
                (
                    frozenset(_unprefixed(urn, GEBIET_URN_PREFIX) for urn in entry["gebietIDs"]),
                    frozenset(_unprefixed(urn, LEISTUNG_URN_PREFIX) for urn in entry["leistungIDs"]),
                )
                for entry in claims["services"]
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidDestinationSignature(
                "The signed route lacks destinationId or services with gebietIDs and leistungIDs."
            ) from exc
        if not isinstance(destination_id, str) or not entries:
            raise InvalidDestinationSignature("The signed route names no destination or no services.")
        return cls(destination_id, tuple(entries))

    def areas_for(self, leika_key: str) -> list[str]:
        """The ARS of every area the signature covers `leika_key` in, in the order signed."""
        return [ars for areas, keys in self.services if leika_key in keys for ars in sorted(areas)]


def _unprefixed(urn: Any, prefix: str) -> str:
    if not isinstance(urn, str) or not urn.startswith(prefix):
        raise ValueError(f"not a {prefix} URN: {urn!r}")
    return urn[len(prefix) :]


def covers(signed_ars: str, *, ars: str | None, ags: str | None) -> bool:
    """Whether the signed area holds the area asked for (an ARS is a prefix of the ARS within it;
    an AGS is a Gemeinde's ARS without its four Gemeindeverband digits)."""
    if ars is not None:
        return ars.startswith(signed_ars)
    if ags is None:
        return False
    if len(signed_ars) == 12:
        return signed_ars[:5] + signed_ars[9:] == ags
    return len(signed_ars) <= 5 and ags.startswith(signed_ars)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A route as zufi lists it; several of them make an ambiguous area."""

    destination_id: str
    destination_name: str
    destination_signature: str
    area: dict[str, Any]

    def as_problem_entry(self) -> dict[str, Any]:
        return {
            "destinationId": self.destination_id,
            "destinationName": self.destination_name,
            "destinationSignature": self.destination_signature,
            "area": self.area,
        }


class ZufiClient:
    """zufi's Routing API and JWKS over HTTP, with a short cache for routes and keys."""

    def __init__(self, base_url: str, *, cache_seconds: float, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.cache_seconds = cache_seconds
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)
        self._routes: dict[tuple[str, str, str], tuple[float, list[Candidate]]] = {}
        self._keys = JwksCache(f"{self.base_url}/.well-known/jwks.json", timeout=timeout)
        self._verified: dict[str, tuple[float, Any]] = {}

    async def close(self) -> None:
        await self.http.aclose()

    async def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        try:
            answer = await self.http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise ZufiUnavailable(f"zufi did not answer: {exc.__class__.__name__}.") from exc
        if answer.status_code >= 500 or answer.status_code == 429:
            raise ZufiUnavailable(f"zufi answered {answer.status_code}.")
        return answer

    @staticmethod
    def _detail(answer: httpx.Response) -> str:
        try:
            body = answer.json()
        except ValueError:
            return f"zufi answered {answer.status_code}."
        return str(body.get("detail") or body.get("title") or answer.status_code)

    async def candidates(self, leika_key: str, *, ars: str | None, ags: str | None) -> list[Candidate]:
        """Every destination zufi names for the service in the area."""
        area_kind, area = ("ars", ars) if ars else ("ags", ags or "")
        cache_key = (leika_key, area_kind, area)
        cached = self._routes.get(cache_key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        answer = await self._get("/v1/routes", {"leikaKey": leika_key, area_kind: area, "limit": "20"})
        if answer.status_code == 404:
            raise RouteNotFound(self._detail(answer))
        if answer.status_code >= 400:
            raise InvalidApplication(self._detail(answer))
        routes = [
            Candidate(
                destination_id=str(route["destinationId"]),
                destination_name=str(route.get("destinationName", "")),
                destination_signature=str(route["destinationSignature"]),
                area=dict(route.get("area") or {}),
            )
            for route in answer.json().get("routes", [])
        ]
        self._routes[cache_key] = (time.monotonic() + self.cache_seconds, routes)
        if len(self._routes) > 10_000:
            self._routes.clear()
        return routes

    async def resolve(self, leika_key: str, *, ars: str | None, ags: str | None) -> Route:
        """The one destination responsible, checked against its signature."""
        candidates = await self.candidates(leika_key, ars=ars, ags=ags)
        if not candidates:
            raise RouteNotFound(f"No destination offers service {leika_key} in area {ars or ags}.")
        if len(candidates) > 1:
            raise AmbiguousArea(
                f"{len(candidates)} destinations are responsible in area {ars or ags}.",
                candidates=[c.as_problem_entry() for c in candidates],
            )
        chosen = candidates[0]
        route = await self.verify(chosen.destination_signature, leika_key=leika_key, ars=ars, ags=ags)
        return Route(route.destination_id, route.leika_key, route.ars, str(chosen.area.get("name") or ""))

    async def _key_set(self, kid: str) -> KeySet:
        try:
            return await self._keys.keys_for(kid)
        except KeysUnavailable as exc:
            raise ZufiUnavailable("zufi's signing keys are unavailable.") from exc

    def _verified_claims(self, signature: str) -> Any:
        """Claims of a signature verified before: forms send the same route's signature many times."""
        cached = self._verified.get(signature)
        if cached is None or cached[0] < time.monotonic():
            return None
        return cached[1]

    async def _verify(self, signature: str) -> Any:
        # Verification is a public-key operation, far cheaper than a thread hop: done inline.
        try:
            kid = self._kid(signature)
            claims = json.loads(self._deserialize(signature, await self._key_set(kid), kid).payload)
        except (JoseError, ValueError) as exc:
            raise InvalidDestinationSignature("The signature does not verify with zufi's keys.") from exc
        if len(self._verified) > 10_000:
            self._verified.clear()
        self._verified[signature] = (time.monotonic() + self.cache_seconds, claims)
        return claims

    @staticmethod
    def _kid(signature: str) -> str:
        """The key id of a header that follows FITKO's rules; refused before anything is verified."""
        header = jws.extract_compact(signature.encode()).protected
        if str(header.get("typ", "")).upper() != "JWT" or not header.get("kid"):
            raise InvalidDestinationSignature("The signature's header needs typ JWT and a kid.")
        return str(header["kid"])

    @staticmethod
    def _deserialize(signature: str, keys: KeySet, kid: str) -> jws.CompactSignature:
        """The verified token; a key short of FITKO's rules is refused before verifying."""
        key = keys.get_by_kid(kid)
        if not isinstance(key, RSAKey) or key.raw_value.key_size < MIN_KEY_BITS:
            raise InvalidDestinationSignature(f"zufi's key must be RSA of at least {MIN_KEY_BITS} bits.")
        return jws.deserialize_compact(signature, key, algorithms=SIGNATURE_ALGORITHMS)

    async def verify(
        self, signature: str, *, leika_key: str, ars: str | None = None, ags: str | None = None
    ) -> Route:
        """Check a destinationSignature with zufi's published keys and read the route it binds: the
        service must be among the signed `services`, and so must the area asked for, if any."""
        claims = self._verified_claims(signature)
        if claims is None:
            claims = await self._verify(signature)
        signed = SignedServices.of(claims)
        areas = signed.areas_for(leika_key)
        if not areas:
            raise InvalidDestinationSignature(f"The route was not signed for service {leika_key}.")
        if ars is not None or ags is not None:
            areas = [area for area in areas if covers(area, ars=ars, ags=ags)]
            if not areas:
                raise InvalidDestinationSignature(
                    f"The route was not signed for area {ars or ags} (service {leika_key})."
                )
        return Route(destination_id=signed.destination_id, leika_key=leika_key, ars=areas[0], area_name="")
