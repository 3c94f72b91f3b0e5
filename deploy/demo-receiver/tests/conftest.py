import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Form, Request
from joserfc import jwe
from joserfc.jwk import RSAKey

from ozg_common.auth import TokenVerifier
from ozg_common.webhooks import derive_destination_secret, sign_fit_connect_callback, sign_standard_webhook
from ozg_demo_receiver.app import create_app
from ozg_demo_receiver.settings import DemoReceiverSettings
from ozg_testing import TestTokens, app_client, fresh_postgres_database, serving

MASTER_SECRET = "demo-receiver-tests-" + uuid.uuid4().hex


@dataclass
class Gateway:
    """kop-gateway's return channel and submission's /token, over real HTTP, recording what came."""

    tokens: TestTokens
    calls: list[dict[str, Any]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    submissions: dict[str, dict[str, Any]] = field(default_factory=dict)
    url: str = ""

    def app(self) -> FastAPI:
        app = FastAPI()
        verifier: TokenVerifier = self.tokens.verifier()

        @app.post("/token")
        async def token(
            grant_type: str = Form(),
            client_id: str = Form(),
            client_secret: str = Form(),
            scope: str = Form(),
        ) -> dict[str, Any]:
            self.token_requests.append({"client_id": client_id, "scope": scope})
            assert grant_type == "client_credentials"
            assert client_secret == "receiver-secret"
            return {"access_token": self.tokens.token(scope), "token_type": "Bearer", "expires_in": 1800}

        @app.get("/v1/submissions/{submission_id}")
        async def submission(submission_id: str, request: Request) -> dict[str, Any]:
            principal = await verifier.verify(request.headers["authorization"].removeprefix("Bearer "))
            found = self.submissions[submission_id]
            assert principal.has(f"destination:{found['destinationId']}")
            return found

        @app.post("/v1/cases/{case_id}/{what}")
        async def answer(case_id: str, what: str, request: Request) -> dict[str, str]:
            principal = await verifier.verify(request.headers["authorization"].removeprefix("Bearer "))
            self.calls.append(
                {
                    "case_id": case_id,
                    "what": what,
                    "scopes": sorted(principal.scopes),
                    "idempotency_key": request.headers.get("idempotency-key"),
                    "body": await request.json(),
                }
            )
            return {"status": "ok"}

        return app

    def for_case(self, case_id: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["case_id"] == case_id]


@pytest.fixture(scope="session")
def destination_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "demo-test-key"}, private=True)


@pytest.fixture(scope="session")
def key_file(tmp_path_factory: pytest.TempPathFactory, destination_key: RSAKey) -> Path:
    path = tmp_path_factory.mktemp("keys") / "destination-private.jwk.json"
    path.write_text(json.dumps(destination_key.as_dict(private=True)))
    return path


@pytest.fixture(scope="session")
async def gateway() -> AsyncIterator[Gateway]:
    peer = Gateway(TestTokens())
    async with serving(peer.app()) as url:
        peer.url = url
        yield peer


@pytest.fixture(scope="session")
async def settings(key_file: Path, gateway: Gateway) -> DemoReceiverSettings:
    return DemoReceiverSettings(
        database_url=await fresh_postgres_database("test_demo_receiver"),
        signing_master_secret=MASTER_SECRET,
        destination_key_file=key_file,
        kop_gateway_url=gateway.url,
        submission_url=gateway.url,
        client_id="demo-receiver",
        client_secret="receiver-secret",
        retry_after_seconds=0.2,
    )


@pytest.fixture(scope="session")
async def client(settings: DemoReceiverSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(settings)) as http:
        yield http


def encrypt(key: RSAKey, plaintext: bytes, cty: str) -> str:
    header = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": key.kid, "cty": cty}
    return jwe.encrypt_compact(header, plaintext, key, algorithms=["RSA-OAEP-256", "A256GCM"])


GEWERBE_XML = (Path(__file__).parent / "antrag.xml").read_bytes()
"""An application valid against the suite's XÖV schema (ozg-antrag 1.0)."""


def _envelope(
    key: RSAKey,
    *,
    destination_id: str,
    data: bytes = GEWERBE_XML,
    leika_key: str = "99050035001000",
    data_hash: str | None = None,
) -> dict[str, Any]:
    metadata = {
        "contentStructure": {
            "data": {
                "hash": {"type": "sha512", "content": data_hash or hashlib.sha512(data).hexdigest()},
                "submissionSchema": {
                    "schemaUri": "urn:xoev-de:ozg-router:test",
                    "mimeType": "application/xml",
                },
            },
            "attachments": [],
        }
    }
    return {
        "type": "submission",
        "deliveryId": str(uuid.uuid4()),
        "destinationId": destination_id,
        "submissionId": str(uuid.uuid4()),
        "caseId": str(uuid.uuid4()),
        "service": {"leikaKey": leika_key, "name": "Gewerbeanmeldung"},
        "encryptedMetadata": encrypt(key, json.dumps(metadata).encode(), "application/json"),
        "encryptedData": encrypt(key, data, "application/xml"),
        "attachments": [],
    }


def _signed(
    body: dict[str, Any],
    *,
    scheme: str = "standard-webhooks",
    timestamp: int | None = None,
    message_id: str | None = None,
    secret: str | None = None,
    destination_id: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    secret = secret or derive_destination_secret(MASTER_SECRET, destination_id or body["destinationId"])
    timestamp = int(time.time()) if timestamp is None else timestamp
    if scheme == "fit-connect":
        headers = sign_fit_connect_callback(secret, raw, timestamp=timestamp)
    else:
        headers = sign_standard_webhook([secret], message_id or body["deliveryId"], raw, timestamp=timestamp)
    return raw, {**headers, "content-type": "application/json"}


MakeEnvelope = Callable[..., dict[str, Any]]
Sign = Callable[..., tuple[bytes, dict[str, str]]]


@pytest.fixture(scope="session")
def envelope() -> MakeEnvelope:
    """`envelope(key, destination_id=…, data=…, leika_key=…, data_hash=…)`: a submission envelope."""
    return _envelope


@pytest.fixture(scope="session")
def signed() -> Sign:
    """`signed(body, scheme=…, timestamp=…, secret=…)`: raw body and the gateway's signature headers."""
    return _signed
