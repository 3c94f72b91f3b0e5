"""Test kit of the submission tests: keys, a real HTTP zufi double, Kafka in and out, API clients."""

import asyncio
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse
from joserfc import jwe, jws
from joserfc.jwk import KeySet, RSAKey
from jsonschema import Draft202012Validator
from sqlalchemy import select

from ozg_common import jose, security_events
from ozg_common.contracts.zufi import DestinationChanged, FeeItem, ServiceChanged, Zustellkanal
from ozg_common.db import Database
from ozg_common.events import CloudEvent, Event
from ozg_common.keys import public_jwks
from ozg_submission.eventlog import service as eventlog
from ozg_submission.models import EventLogEntry
from ozg_testing import publish_event
from ozg_testing.standards import FIT_CONNECT

LEIKA_DOG = "99108008000000"
"""Hundesteuer: a form schema, no fee."""
LEIKA_PAY = "99050012104000"
"""A service that must be paid before it is forwarded."""
LEIKA_OTHER = "99999999999999"

ARS_KIEL = "010020000000"
AGS_KIEL = "01002000"
ARS_AMBIGUOUS = "010580000000"
ARS_NOWHERE = "019990000000"
ARS_SIGNED_ELSEWHERE = "010030000000"
"""Lübeck, whose route the double signs for Kiel: as a zufi would that misroutes."""

DOG_FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://schema.ozg-router.de/forms/hundesteuer.json",
    "type": "object",
    "required": ["hund"],
    "properties": {
        "hund": {
            "type": "object",
            "required": ["name", "geburtsjahr"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "geburtsjahr": {"type": "integer", "minimum": 1990},
                "gewicht": {"type": "number"},
                "gefaehrlich": {"type": "boolean"},
            },
        },
        "halterSeit": {"type": "string", "format": "date"},
    },
}

METADATA_SCHEMA = re.compile(
    r"^https://schema\.fitko\.de/fit-connect/metadata/(\d+\.\d+\.\d+)/metadata\.schema\.json$"
)

FEES = [FeeItem(id="fee-1", description="Bearbeitungsgebühr", price="12.50", quantity=2)]


def _rsa(bits: int, kid: str) -> RSAKey:
    return RSAKey.generate_key(bits, parameters={"kid": kid}, private=True)


@dataclass
class Keys:
    """Private keys the tests hold: the destinations', zufi's, a subscriber's and kop-gateway's signing
    key."""

    dest_a: RSAKey = field(default_factory=lambda: _rsa(4096, "dest-a-enc"))
    dest_b: RSAKey = field(default_factory=lambda: _rsa(4096, "dest-b-enc"))
    zufi: RSAKey = field(default_factory=lambda: _rsa(4096, "zufi-sig"))
    subscriber: RSAKey = field(default_factory=lambda: _rsa(2048, "subscriber-sig"))
    gateway: RSAKey = field(default_factory=lambda: _rsa(2048, "kop-gateway-sig"))
    """kop-gateway's: it signs the decisions made at its return channel."""

    def public(self, key: RSAKey) -> dict[str, Any]:
        return key.as_dict(private=False)


def destination_events(keys: Keys, prefix: str) -> list[Event]:
    """The catalogue zufi would announce: four destinations and three services.

    a: Kiel, webservice, signs its SETs with `keys.subscriber`; b: Amt Nord, webservice, no signing
    key; c: callback mode (FIT-Connect), no area, no signing key; closed: inactive.
    """

    def destination(
        name: str,
        key: RSAKey,
        services: list[str],
        status: str = "active",
        *,
        area: str | None = None,
        signing: RSAKey | None = None,
        callback: bool = False,
    ) -> DestinationChanged:
        url = f"http://127.0.0.1:9/kop/{name}"
        return DestinationChanged(
            destination_id=f"{prefix}{name}",
            status=status,  # type: ignore[arg-type]
            name=f"Amt {name}",
            authority_id=f"auth-{name}",
            zustellkanal=Zustellkanal(channel_type="fitconnect", url=url, signature_scheme="fit-connect")
            if callback
            else Zustellkanal(channel_type="webservice", url=url),
            encryption_kid=str(key.kid),
            encryption_key=key.as_dict(private=False),
            services=services,
            reply_channels=["idBundDeMailbox"],
            area_ars=area,
            signing_key=signing.as_dict(private=False) if signing else None,
        )

    return [
        ServiceChanged(
            leika_key=LEIKA_DOG,
            name="Hundesteuer Anmeldung",
            level="GEMEINDE",
            payment_required=False,
            form_schema=DOG_FORM,
        ),
        ServiceChanged(
            leika_key=LEIKA_PAY, name="Meldebescheinigung", level="GEMEINDE", payment_required=True, fees=FEES
        ),
        ServiceChanged(leika_key=LEIKA_OTHER, name="Sonstiges", level="LAND", payment_required=False),
        destination(
            "a", keys.dest_a, [LEIKA_DOG, LEIKA_PAY, LEIKA_OTHER], area=ARS_KIEL, signing=keys.subscriber
        ),
        destination("b", keys.dest_b, [LEIKA_DOG], area=ARS_AMBIGUOUS),
        destination("c", keys.dest_b, [LEIKA_DOG], callback=True),
        destination("closed", keys.dest_b, [LEIKA_DOG], status="inactive", area=ARS_KIEL),
    ]


class FakeZufi:
    """A real HTTP server answering zufi's Routing API and JWKS, signing routes with a test key."""

    def __init__(self, key: RSAKey, prefix: str) -> None:
        self.key = key
        self.issuer = "http://zufi.test"
        a, b = f"{prefix}a", f"{prefix}b"
        self.table: dict[tuple[str, str], list[tuple[str, str]]] = {
            (LEIKA_DOG, ARS_KIEL): [(a, "Kiel")],
            (LEIKA_DOG, AGS_KIEL): [(a, "Kiel")],
            (LEIKA_DOG, ARS_AMBIGUOUS): [(a, "Amt Nord"), (b, "Amt Süd")],
            (LEIKA_PAY, ARS_KIEL): [(a, "Kiel")],
            (LEIKA_OTHER, ARS_KIEL): [(a, "Kiel")],
            (LEIKA_DOG, ARS_SIGNED_ELSEWHERE): [(a, "Lübeck")],
        }
        self.signed_area = {ARS_SIGNED_ELSEWHERE: ARS_KIEL}
        self.route_calls = 0

    def sign(self, destination_id: str, leika_key: str, ars: str, key: RSAKey | None = None) -> str:
        """A destinationSignature as zufi (and FITKO) issues it."""
        payload = {
            "submissionHost": "submission.test",
            "iss": self.issuer,
            "services": [
                {
                    "gebietIDs": ["urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:" + ars],
                    "leistungIDs": ["urn:de:fim:leika:leistung:" + leika_key],
                }
            ],
            "destinationId": destination_id,
            "iat": int(time.time()),
            "jti": str(uuid.uuid4()),
        }
        signer = key or self.key
        header = {"alg": "PS512", "typ": "JWT", "kid": signer.kid}
        return jws.serialize_compact(header, json.dumps(payload).encode(), signer, algorithms=["PS512"])

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/jwks.json")
        async def jwks() -> dict[str, Any]:
            return public_jwks(self.key, alg="PS512")

        @app.get("/v1/routes", response_model=None)
        async def routes(
            leika_key: str = Query(alias="leikaKey"), ars: str | None = None, ags: str | None = None
        ) -> dict[str, Any] | JSONResponse:
            self.route_calls += 1
            area = ars or ags or ""
            found = self.table.get((leika_key, area))
            if found is None:
                return JSONResponse(
                    {
                        "type": "https://schema.ozg-router.de/problems/area-not-found",
                        "title": "Area not found",
                        "status": 404,
                        "detail": f"No area {area}.",
                    },
                    status_code=404,
                    media_type="application/problem+json",
                )
            ars_value = ars or (ARS_KIEL if ags == AGS_KIEL else area)
            routes = [
                {
                    "destinationId": destination_id,
                    "destinationSignature": self.sign(
                        destination_id, leika_key, self.signed_area.get(ars_value, ars_value)
                    ),
                    "destinationName": f"Amt {name}",
                    "area": {"id": ars_value, "name": name, "type": "Gemeinde"},
                }
                for destination_id, name in found
            ]
            return {"count": len(routes), "offset": 0, "totalCount": len(routes), "routes": routes}

        return app


GATEWAY_ISSUER = "http://kop-gateway.test"


def gateway_app(key: RSAKey) -> FastAPI:
    """kop-gateway as submission sees it: the JWKS its decisions verify with."""
    app = FastAPI()

    @app.get("/.well-known/jwks.json")
    async def jwks() -> dict[str, Any]:
        return public_jwks(key, alg="PS512")

    return app


def gateway_decision(
    key: RSAKey,
    event: str,
    submission_id: str,
    case_id: str,
    details: dict[str, Any],
    issuer: str = GATEWAY_ISSUER,
) -> str:
    """A decision's SET as kop-gateway signs it for a destination without a signing key."""
    signer = security_events.EventSigner(key, issuer)
    return signer.sign(
        security_events.OwnEvent(
            event=event,
            submission_id=uuid.UUID(submission_id),
            case_id=uuid.UUID(case_id),
            jti=uuid.uuid4(),
            issued_at=datetime.now(UTC),
            details=details,
        )
    )


class Bus:
    """Kafka as the other services see it: we publish their events and read submission's (and the
    case decisions on `delivery.events`)."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
        self.seen: list[CloudEvent] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.producer.start()
        self._consumer = AIOKafkaConsumer(
            self.prefix + "submission.events",
            self.prefix + "delivery.events",
            bootstrap_servers=self.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._tap())

    async def _tap(self) -> None:
        assert self._consumer is not None
        async for record in self._consumer:
            self.seen.append(CloudEvent.from_kafka(record.headers, record.value or b"{}"))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer:
            await self._consumer.stop()
        await self.producer.stop()

    async def publish(self, *events: Event) -> None:
        for event in events:
            await publish_event(self.producer, event, source="/ozg-router/tests", prefix=self.prefix)

    async def expect(
        self, event_type: str, where: Callable[[dict[str, Any]], bool] = lambda _: True, within: float = 20
    ) -> dict[str, Any]:
        """The first event of `event_type` (short name, e.g. submission.submitted) matching `where`."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for envelope in self.seen:
                if envelope.type == f"de.ozg-router.{event_type}" and where(envelope.data):
                    return envelope.data
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {event_type} event arrived within {within}s")


CLIENTS = {
    "sender": ["send"],
    "sender-dogs-only": ["send", f"send:service:{LEIKA_DOG}"],
    "sender-region": ["send", "send:region:01002"],
    "admin": ["admin"],
}


def clients_file(path: Path, prefix: str) -> dict[str, str]:
    """The bootstrap clients of the tests; answers client id → secret."""
    scopes = CLIENTS | {
        "subscriber-a": [f"destination:{prefix}a"],
        "subscriber-b": [f"destination:{prefix}b"],
        "subscriber-c": [f"destination:{prefix}c"],
        "webservice-operator": ["zustellkanal-host:127.0.0.1:9"],
    }
    secrets = {client_id: f"secret-{client_id}-{uuid.uuid4().hex}" for client_id in scopes}
    path.write_text(
        json.dumps([{"client_id": c, "client_secret": secrets[c], "scopes": s} for c, s in scopes.items()])
    )
    return secrets


@dataclass
class Suite:
    """Everything a test talks to."""

    http: httpx.AsyncClient
    bus: Bus
    zufi: FakeZufi
    keys: Keys
    secrets: dict[str, str]
    prefix: str
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def dest_a(self) -> str:
        return f"{self.prefix}a"

    @property
    def dest_b(self) -> str:
        return f"{self.prefix}b"

    @property
    def dest_c(self) -> str:
        return f"{self.prefix}c"

    @property
    def dest_closed(self) -> str:
        return f"{self.prefix}closed"

    async def wait_for_destination(self, destination_id: str, within: float = 30) -> None:
        """zufi's events reach the read model asynchronously: wait until the destination is known."""
        deadline = time.monotonic() + within
        headers = await self.auth("admin")
        while time.monotonic() < deadline:
            if (
                await self.http.get(f"/v1/destinations/{destination_id}", headers=headers)
            ).status_code == 200:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"destination {destination_id} never reached the read model")

    async def token(self, client_id: str) -> str:
        if client_id not in self._tokens:
            answer = await self.http.post(
                "/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": self.secrets[client_id],
                },
            )
            assert answer.status_code == 200, answer.text
            self._tokens[client_id] = answer.json()["access_token"]
        return self._tokens[client_id]

    async def auth(self, client_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(client_id)}"}

    def encrypt_for_a(self, content: bytes, content_type: str | None = "application/json") -> str:
        """What a FIT-Connect sender does: encrypt for the destination's public key."""
        public = RSAKey.import_key(self.keys.public(self.keys.dest_a))
        if content_type is None:
            header = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": self.keys.dest_a.kid}
            return jwe.encrypt_compact(header, content, public, registry=jose.REGISTRY)
        return jose.encrypt(content, public, content_type=content_type)

    def decrypt(self, token: str, key: RSAKey | None = None) -> tuple[jose.JweHeader, bytes]:
        return jose.decrypt(token, key or self.keys.dest_a)

    def metadata(self, token: str, key: RSAKey | None = None) -> dict[str, Any]:
        """Metadata the suite wrote, decrypted, after asserting it conforms to FITKO's published
        schema of the version its `$schema` names."""
        header, plaintext = self.decrypt(token, key)
        assert header.cty == "application/json", header
        document: dict[str, Any] = json.loads(plaintext)
        version = METADATA_SCHEMA.match(document.get("$schema", ""))
        assert version is not None, document.get("$schema")
        assert published_metadata_problems(document, version.group(1)) == [], document
        return document


def published_metadata_problems(document: dict[str, Any], version: str) -> list[str]:
    """What in `document` does not conform to the published metadata schema of `version`."""
    schema = json.loads((FIT_CONNECT / "metadata" / version / "metadata.schema.json").read_bytes())
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(document)]


def problem(answer: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """Assert an RFC 9457 answer with this status whose type ends in this slug."""
    assert answer.status_code == status, f"{answer.status_code} {answer.text}"
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.headers
    body: dict[str, Any] = answer.json()
    assert body["type"].endswith(f"/{slug}"), body
    assert body["status"] == status
    return body


FIT_CONNECT_PROBLEMS = "https://schema.fitko.de/fit-connect/submission-api/problems/"


async def nonconforming_sets(
    signer: security_events.EventSigner, database_url: str, trusted: KeySet
) -> list[str]:
    """Every SET of every case log in the database, each checked against FIT-Connect's SET rules and
    verified with the `trusted` key its `kid` names (ours, or a destination's): what fails, and why.

    Reading the logs signs the entries not read yet, so every SET the suite writes is among them.
    """
    database = Database(database_url)
    failures = []
    try:
        async with database.transaction() as session:
            cases = (await session.scalars(select(EventLogEntry.case_id).distinct())).all()
        for case_id in cases:
            async with database.transaction() as session:
                logged = await eventlog.of_case(session, signer, case_id)
            for event in logged:
                try:
                    verified = security_events.verify(event.token, trusted)
                except security_events.InvalidSecurityEvent as exc:
                    failures.append(f"case {case_id}, {event.event}: {exc}")
                    continue
                if verified.case_id != case_id or verified.subject_id != event.submission_id:
                    failures.append(f"case {case_id}, {event.event}: sub or txn names another submission")
    finally:
        await database.dispose()
    return failures
