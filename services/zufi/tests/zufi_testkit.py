"""What several of zufi's test modules check alike."""

import json
import re
import time
import uuid
from typing import Any

import httpx
from joserfc import jws
from joserfc.jwk import KeySet, RSAKey

PROBLEMS = "https://schema.ozg-router.de/problems/"


def assert_problem(answer: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """The answer is a problem+json of `status` and type `slug`; its body."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = dict(answer.json())
    assert body["type"] == PROBLEMS + slug, body
    assert body["status"] == status
    return body


SIGNATURE_CLAIMS = {"submissionHost", "iss", "services", "destinationId", "iat", "jti"}
GEBIET_URN = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:"
LEISTUNG_URN = "urn:de:fim:leika:leistung:"


def destination_claims(signature: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """The claims of a destinationSignature checked the FITKO way: PS512, `typ` JWT, a `kid` of the
    published keys (RSA of at least 3072 bits), exactly FITKO's claims, nothing else."""
    keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    token = jws.deserialize_compact(signature, keys, algorithms=["PS512"])
    assert token.protected == {"alg": "PS512", "typ": "JWT", "kid": token.protected["kid"]}
    key = next(key for key in keys.keys if key.kid == token.protected["kid"])
    assert isinstance(key, RSAKey)
    assert key.raw_value.key_size >= 3072
    claims: dict[str, Any] = json.loads(token.payload)
    assert set(claims) == SIGNATURE_CLAIMS, claims
    assert isinstance(claims["iat"], int)
    assert abs(claims["iat"] - time.time()) < 3600
    assert str(uuid.UUID(claims["jti"])) == claims["jti"]
    assert str(uuid.UUID(claims["destinationId"])) == claims["destinationId"]
    assert re.fullmatch(r"[\w.-]+(:\d+)?", claims["submissionHost"])
    [service] = claims["services"]
    assert set(service) == {"gebietIDs", "leistungIDs"}
    assert all(re.fullmatch(re.escape(GEBIET_URN) + r"\d{2,12}", urn) for urn in service["gebietIDs"])
    assert all(re.fullmatch(re.escape(LEISTUNG_URN) + r"99\d{12}", urn) for urn in service["leistungIDs"])
    return claims


def signed_route(claims: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    """destinationId, the ARS and the LeiKa keys a destinationSignature's claims name."""
    [service] = claims["services"]
    areas = [urn.removeprefix(GEBIET_URN) for urn in service["gebietIDs"]]
    keys = [urn.removeprefix(LEISTUNG_URN) for urn in service["leistungIDs"]]
    return claims["destinationId"], areas, keys
