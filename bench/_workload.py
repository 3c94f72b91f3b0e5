"""The application load e2e_load.py and chaos.py send, and what the demo receiver saw of it.

Applications for "Hund anmelden" (a Gemeinde service without a fee) go to many real Gemeinden,
half through the native intake (`POST /v1/applications`, routed by destinationSignature) and
half through the FIT-Connect Submission API (`POST` + `PUT /v1/submissions`, metadata and data
encrypted by the sender with the destination's key, as an online service would). Bodies are
prepared before the clock starts, so the load generator measures the suite, not itself.
"""

import asyncio
import csv
import hashlib
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from ozg_common import jose
from ozg_testing.suite_harness import KAFKA_SERVICES, Suite

ROOT = Path(__file__).resolve().parents[1]
GEMEINDEN = ROOT / "services" / "zufi" / "src" / "ozg_zufi" / "data" / "gv-auszug.csv"
LEIKA_KEY = "99110007000000"
SERVICE_NAME = "Hund anmelden (Hundesteuer)"
SCHEMA_URI = "urn:ozg-router:bench:hundeanmeldung:1.0"


def gemeinden(sample: int, lands: tuple[str, ...] | None = None, seed: int = 7) -> list[str]:
    """AGS of real Gemeinden (not gemeindefreie Gebiete) in `lands` (all: None), a fixed random sample."""
    with GEMEINDEN.open(encoding="utf-8-sig", newline="") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["satzart"] == "60"
            and r["textkennzeichen"] not in {"65", "66"}
            and (lands is None or r["land"] in lands)
        ]
    keys = [r["land"] + r["rb"] + r["kreis"] + r["gemeinde"] for r in rows]
    return random.Random(seed).sample(keys, sample)


@dataclass(frozen=True)
class Target:
    """A route: where an application for one Gemeinde goes, and the key to encrypt it for."""

    ags: str
    destination_id: str
    destination_signature: str
    key: dict[str, Any]


async def targets(http: httpx.AsyncClient, suite: Suite, areas: int) -> list[Target]:
    """Route lookups (zufi) and destination keys (submission) for `areas` Gemeinden."""
    sender = {"Authorization": f"Bearer {await suite.token(http, 'send')}"}
    found: list[Target] = []
    keys: dict[str, dict[str, Any]] = {}
    for ags in gemeinden(areas, suite.lands):
        answer = await http.get(f"{suite.url('zufi')}/v1/routes", params={"leikaKey": LEIKA_KEY, "ags": ags})
        answer.raise_for_status()
        routes = answer.json()["routes"]
        if not routes:
            continue
        route = routes[0]
        destination_id = route["destinationId"]
        if destination_id not in keys:
            keys[destination_id] = await destination_key(http, suite, sender, destination_id)
        found.append(Target(ags, destination_id, route["destinationSignature"], keys[destination_id]))
    return found


async def destination_key(
    http: httpx.AsyncClient, suite: Suite, sender: dict[str, str], destination_id: str, within: float = 60
) -> dict[str, Any]:
    """The destination's public JWK as a FIT-Connect sender fetches it (waits for submission's read model)."""
    base = f"{suite.url('submission')}/v1/destinations/{destination_id}"
    deadline = time.monotonic() + within
    while True:
        answer = await http.get(base, headers=sender)
        if answer.status_code == 200:
            kid = answer.json()["encryptionKid"]
            key = await http.get(f"{base}/keys/{kid}")
            key.raise_for_status()
            return dict(key.json())
        if time.monotonic() > deadline:
            answer.raise_for_status()
        await asyncio.sleep(0.5)


def form_data(number: int) -> dict[str, Any]:
    return {"hundName": f"Bello {number}", "rasse": "Mischling", "haltungSeit": date.today().isoformat()}


def applicant(number: int) -> dict[str, Any]:
    return {"givenName": "Bench", "familyName": f"Antrag{number}", "email": f"bench{number}@example.org"}


@dataclass
class Prepared:
    """One application, ready to send."""

    number: int
    channel: str
    """native or fit-connect"""
    target: Target
    body: bytes = b""
    encrypted_metadata: str = ""
    encrypted_data: str = ""


def prepare(number: int, target: Target, channel: str) -> Prepared:
    if channel == "native":
        body = {
            "leikaKey": LEIKA_KEY,
            "destinationSignature": target.destination_signature,
            "applicant": applicant(number),
            "formData": form_data(number),
        }
        return Prepared(number, channel, target, body=json.dumps(body).encode())
    data = json.dumps({"antragsteller": applicant(number), "antrag": form_data(number)}).encode()
    metadata = {
        "$schema": "https://schema.fitko.de/fit-connect/metadata/1.2.0/metadata.schema.json",
        "contentStructure": {
            "data": {
                "hash": {"type": "sha512", "content": hashlib.sha512(data).hexdigest()},
                "submissionSchema": {"schemaUri": SCHEMA_URI, "mimeType": "application/json"},
            },
            "attachments": [],
        },
    }
    key = jose.encryption_key(target.key)
    return Prepared(
        number,
        channel,
        target,
        encrypted_metadata=jose.encrypt(json.dumps(metadata).encode(), key, content_type="application/json"),
        encrypted_data=jose.encrypt(data, key, content_type="application/json"),
    )


CHANNELS = ("native", "fit-connect")


def prepare_all(
    count: int, found: list[Target], offset: int = 0, channels: tuple[str, ...] = CHANNELS
) -> list[Prepared]:
    """Channels in turn, round robin over the destinations."""
    return [prepare(offset + n, found[n % len(found)], channels[n % len(channels)]) for n in range(count)]


@dataclass
class Outcome:
    """What the sender learned about one application."""

    number: int
    channel: str
    scheduled: float
    status: int = 0
    """HTTP status of the final call (0: no answer)."""
    submission_id: str | None = None
    accepted_at: float | None = None
    """Wall clock when the final 2xx answer arrived."""
    error: str | None = None


@dataclass
class Load:
    """Sends prepared applications at a fixed rate (open loop), at most `in_flight` at once."""

    suite: Suite
    rate: float
    in_flight: int = 128
    outcomes: list[Outcome] = field(default_factory=list)
    token: str = ""
    token_at: float = 0.0

    async def _headers(self) -> dict[str, str]:
        if not self.token or time.monotonic() - self.token_at > 600:
            async with httpx.AsyncClient(timeout=30) as http:
                self.token = await self.suite.token(http, "send")
            self.token_at = time.monotonic()
        return {"Authorization": f"Bearer {self.token}"}

    async def _send(self, http: aiohttp.ClientSession, item: Prepared, outcome: Outcome) -> None:
        submission = self.suite.url("submission")
        headers = await self._headers()
        if item.channel == "native":
            async with http.post(
                f"{submission}/v1/applications",
                data=item.body,
                headers={**headers, "Content-Type": "application/json"},
            ) as answer:
                outcome.status = answer.status
                if answer.status == 201:
                    outcome.submission_id = (await answer.json())["submissionId"]
            return
        async with http.post(
            f"{submission}/v1/submissions",
            json={
                "destinationId": item.target.destination_id,
                "serviceType": {"name": SERVICE_NAME, "identifier": LEIKA_KEY},
            },
            headers=headers,
        ) as created:
            outcome.status = created.status
            if created.status != 201:
                return
            submission_id = (await created.json())["submissionId"]
        async with http.put(
            f"{submission}/v1/submissions/{submission_id}",
            json={"encryptedMetadata": item.encrypted_metadata, "encryptedData": item.encrypted_data},
            headers=headers,
        ) as submitted:
            outcome.status = submitted.status
            await submitted.read()
            if submitted.ok:
                outcome.submission_id = submission_id

    async def _one(
        self, http: aiohttp.ClientSession, item: Prepared, outcome: Outcome, slots: asyncio.Semaphore
    ) -> None:
        async with slots:
            try:
                await self._send(http, item, outcome)
                if outcome.submission_id is None and outcome.status:
                    outcome.error = f"HTTP {outcome.status}"
            # httpx: the token refresh, which may meet a submission that is down as well.
            except (aiohttp.ClientError, httpx.HTTPError, TimeoutError) as exc:
                outcome.error = type(exc).__name__
            if outcome.submission_id is not None:
                outcome.accepted_at = time.time()

    async def run(self, items: list[Prepared]) -> float:
        """Send everything; returns the sending time in seconds."""
        slots = asyncio.Semaphore(self.in_flight)
        # aiohttp, not httpx: the generator shares the cores with what it measures, and httpx's
        # pure-Python HTTP/1.1 costs ~1.2 ms of CPU per request here, aiohttp's ~0.1 ms.
        connector = aiohttp.TCPConnector(limit=self.in_flight)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            await self._headers()
            began = time.monotonic()
            tasks: list[asyncio.Task[None]] = []
            for n, item in enumerate(items):
                due = began + n / self.rate
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                outcome = Outcome(item.number, item.channel, scheduled=time.time())
                self.outcomes.append(outcome)
                tasks.append(asyncio.create_task(self._one(http, item, outcome, slots)))
            await asyncio.gather(*tasks)
            return time.monotonic() - began

    @property
    def accepted(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.submission_id is not None]


@dataclass(frozen=True)
class Received:
    submission_id: str
    received_at: float
    deliveries: int


async def received(http: httpx.AsyncClient, suite: Suite) -> dict[str, Received]:
    """Every application the demo receiver stored, by submission id."""
    answer = await http.get(f"{suite.url('demo-receiver')}/api/applications", timeout=120)
    answer.raise_for_status()
    return {
        a["submissionId"]: Received(
            a["submissionId"], datetime.fromisoformat(a["receivedAt"]).timestamp(), int(a["deliveries"])
        )
        for a in answer.json()["applications"]
    }


async def received_count(http: httpx.AsyncClient, suite: Suite) -> int:
    answer = await http.get(f"{suite.url('demo-receiver')}/api/applications", params={"limit": 1})
    answer.raise_for_status()
    return int(answer.json()["totals"]["applications"])


async def wait_for_deliveries(
    http: httpx.AsyncClient, suite: Suite, expected: set[str], within: float, baseline: int = 0
) -> dict[str, Received]:
    """Poll the receiver until every expected submission arrived (or the time is up)."""
    deadline = time.monotonic() + within
    while True:
        try:
            if await received_count(http, suite) - baseline >= len(expected):
                seen = await received(http, suite)
                if expected <= seen.keys():
                    return seen
        except httpx.HTTPError:
            pass  # the receiver may be restarting
        if time.monotonic() > deadline:
            return await received(http, suite)
        await asyncio.sleep(1.0)


def with_partitions(settings: dict[str, dict[str, str]], partitions: int | None) -> dict[str, dict[str, str]]:
    """`settings`, and every Kafka service creating its topics with `partitions` if given (its
    TOPIC_PARTITIONS setting; without it each topic has its own, 12)."""
    if partitions is None:
        return settings
    return {
        name: {**settings.get(name, {}), "TOPIC_PARTITIONS": str(partitions)}
        for name in {*settings, *KAFKA_SERVICES}
    }


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def new_run_id() -> str:
    return uuid.uuid4().hex[:8]
