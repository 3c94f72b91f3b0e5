"""What several of zufi's test modules check alike."""

import json
import re
import time
import uuid
from functools import cache
from typing import Any

import httpx
from joserfc import jws
from joserfc.jwk import KeySet, RSAKey
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from ozg_testing.standards import ROUTING_API

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


ROUTING_API_SERVER = "https://routing-api-testing.fit-connect.fitko.dev"


@cache
def routing_api() -> OpenAPI:
    """FITKO's published Routing API 2.0.0 document."""
    # Problem answers are JSON too: read as such, so their bodies are checked against the schema.
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_file_path(str(ROUTING_API), config=config)


def assert_routing_api_answer(answer: httpx.Response) -> None:
    """The answer (status, media type, body) is one routing-api.yaml allows for its request."""
    request = answer.request
    path = request.url.path.removeprefix("/v1")
    media_type = answer.headers["content-type"].split(";")[0]
    if path == "/areas" and answer.status_code == 200:
        # The published document declares application/problem+json for a 200 of /areas (a slip in
        # it); the body is checked against the schema it gives there.
        media_type = "application/problem+json"
    routing_api().validate_response(
        MockRequest(ROUTING_API_SERVER, request.method.lower(), "/v1" + path),
        MockResponse(answer.content, status_code=answer.status_code, content_type=media_type),
    )
