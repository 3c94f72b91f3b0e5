"""Native intake throughput and latency: `POST /v1/applications` beside a trivial endpoint.

Each application is routed (destinationSignature checked with zufi's JWKS), its form data checked
against the service's JSON Schema, rendered as XÖV XML, validated against the XSD, encrypted (JWE,
RSA-4096) for the destination, stored (blobs + PostgreSQL) with three signed SETs and two outbox
events, relayed to Kafka. submission runs as its own uvicorn process on PostgreSQL and Kafka; the
trivial FastAPI endpoint runs the same way, so the difference is the cost of intake itself.

    uv run python bench/submission_intake.py [--seconds 20] [--concurrency 16] [--workers 1]
        [--generator auto|vegeta|python]

Prints submissions/s, p50/p99 and the server's CPU per submission (its whole process tree, so
`--workers N` uvicorn processes are costed too), and how long the outbox needed to reach Kafka
after the load; writes bench/results/submission_intake.json (or `--output`). PostgreSQL's CPU
(the bench database's backends) and the load generator's own CPU per submission are recorded
too: all of them share the machine's cores. The server's pid is printed on stderr to attach a
profiler (py-spy) to it.

The load comes from vegeta (Go; `bench/tools.sh vegeta` builds it once into `.cache/`), in a closed
loop of `--concurrency` workers over pre-built JSON targets (the same application bodies and bearer
token as the Python generator): it costs a fraction of what a Python generator takes from the same
cores. Without Go (or with `--generator python`) the Python/httpx generator below is used; the
result names which one ran. Every 2xx must be a stored application: each round compares the
answered 201s with the rows that appeared in the database, and the script exits 1 on any error or
mismatch.
"""

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _proc import matching_cpu_seconds, tree_cpu_seconds
from _stats import summary
from _vegeta import Summary, Vegeta, add_generator_argument, find_vegeta, summarize
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from joserfc import jws
from joserfc.jwk import RSAKey
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from ozg_common.contracts.zufi import DestinationChanged, ServiceChanged, Zustellkanal
from ozg_common.events import CloudEvent, Event
from ozg_common.keys import MIN_RSA_BITS, public_jwks
from ozg_common.testing import (
    free_port,
    fresh_postgres_database,
    kafka_bootstrap,
    serving,
    unique_topic_prefix,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "submission_intake.json"
DATABASE = "bench_submission"
LEIKA_KEY = "99108008000000"
ARS = "010020000000"
FORM_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["hund"],
    "properties": {
        "hund": {
            "type": "object",
            "required": ["name", "rasse", "geburtsjahr"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 100},
                "rasse": {"type": "string"},
                "geburtsjahr": {"type": "integer", "minimum": 1990},
                "gewicht": {"type": "number"},
                "gefaehrlich": {"type": "boolean"},
            },
        },
        "halterSeit": {"type": "string", "format": "date"},
    },
}


def serve_trivial(port: int) -> None:
    import uvicorn

    app = FastAPI()

    @app.post("/ping")
    async def ping(body: dict[str, Any]) -> dict[str, bool]:
        return {"ok": bool(body)}

    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


def zufi_double(key: RSAKey) -> FastAPI:
    app = FastAPI()

    @app.get("/.well-known/jwks.json")
    async def jwks() -> dict[str, Any]:
        return public_jwks(key, alg="RS256")

    return app


def signed_route(key: RSAKey, destination_id: str) -> str:
    payload = {
        "iss": "bench-zufi",
        "iat": int(time.time()),
        "destinationId": destination_id,
        "leikaKey": LEIKA_KEY,
        "ars": ARS,
        "areaName": "Kiel",
    }
    return jws.serialize_compact({"alg": "RS256", "kid": key.kid}, json.dumps(payload).encode(), key)


async def publish(prefix: str, events: list[Event]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(), acks="all")
    await producer.start()
    try:
        for event in events:
            envelope = CloudEvent.wrap(event, source="/bench")
            await producer.send_and_wait(
                prefix + event.topic.name,
                envelope.kafka_value(),
                key=event.partition_key().encode(),
                headers=envelope.kafka_headers(),
            )
    finally:
        await producer.stop()


async def wait_until(check: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if await check():
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError(f"{what} not ready within {within}s")


def postgres_cpu_seconds(database: str) -> float:
    """User + system CPU time of the PostgreSQL backends serving `database`."""
    return matching_cpu_seconds(
        lambda command: command.startswith("postgres: ") and f" {database} " in command
    )


async def saturate(
    base: str,
    path: str,
    bodies: list[dict[str, Any]],
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    expect: int,
) -> Summary:
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def worker(offset: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=30, headers=headers) as client:
            i = offset
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    answer = await client.post(path, json=bodies[i % len(bodies)])
                    ok = answer.status_code == expect
                    if not ok and errors < 3:
                        print("unexpected answer:", answer.status_code, answer.text[:300], file=sys.stderr)
                except httpx.HTTPError:
                    ok = False
                errors += not ok
                latencies.append(time.perf_counter() - started)
                i += concurrency

    began = time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return summary(latencies, time.monotonic() - began, errors)


class PythonLoad:
    """The fallback generator: httpx in this process (it competes with the servers for the cores)."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def saturate(
        self,
        base: str,
        path: str,
        bodies: list[dict[str, Any]],
        headers: dict[str, str],
        concurrency: int,
        seconds: float,
        expect: int,
    ) -> tuple[Summary, float]:
        """The round's figures and the generator's CPU seconds."""
        own_before = time.process_time()
        result = await saturate(base, path, bodies, headers, concurrency, seconds, expect)
        return result, time.process_time() - own_before


class VegetaLoad:
    """vegeta `attack` in a closed loop (rate 0: `concurrency` workers, each awaiting its answer) over
    JSON targets carrying the bodies and headers."""

    def __init__(self, vegeta: Vegeta) -> None:
        self.vegeta = vegeta
        self.name = vegeta.name

    async def saturate(
        self,
        base: str,
        path: str,
        bodies: list[dict[str, Any]],
        headers: dict[str, str],
        concurrency: int,
        seconds: float,
        expect: int,
    ) -> tuple[Summary, float]:
        """The round's figures and vegeta's CPU seconds."""
        header = {name: [value] for name, value in (headers | {"Content-Type": "application/json"}).items()}
        targets = "".join(
            json.dumps(
                {
                    "method": "POST",
                    "url": base + path,
                    "header": header,
                    "body": base64.b64encode(json_bytes(body)).decode(),
                }
            )
            + "\n"
            for body in bodies
        )
        children_before = children_cpu_seconds()
        flags = ["-timeout=30s", "-rate=0", f"-workers={concurrency}", f"-max-workers={concurrency}"]
        hits = await self.vegeta.attack(targets, seconds, flags, json_targets=True)
        # vegeta has been reaped: its CPU time is now in this process's children's account.
        generator_cpu = children_cpu_seconds() - children_before
        report = await self.vegeta.report(hits)
        answered = int(report["status_codes"].get(str(expect), 0))
        if answered < int(report["requests"]):
            await self._print_unexpected(hits, expect)
        hits.unlink()
        return summarize(report, answered), generator_cpu

    async def _print_unexpected(self, hits: Path, expect: int) -> None:
        shown = 0
        for line in (await self.vegeta.run("encode", "-to=json", str(hits))).splitlines():
            hit = json.loads(line)
            if hit["code"] != expect and shown < 3:
                body = base64.b64decode(hit.get("body") or b"").decode(errors="replace")
                print("unexpected answer:", hit["code"], hit.get("error", ""), body[:300], file=sys.stderr)
                shown += 1


LoadGenerator = PythonLoad | VegetaLoad


async def intake_load_generator(choice: str, workdir: Path) -> LoadGenerator:
    """vegeta unless told otherwise or it cannot be had (the same rule as zufi_routes)."""
    binary, why = await find_vegeta(choice)
    if binary is None:
        return PythonLoad(f"python httpx ({why})")
    return VegetaLoad(Vegeta(binary, workdir))


def json_bytes(body: dict[str, Any]) -> bytes:
    """A body as httpx's `json=` sends it."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def children_cpu_seconds() -> float:
    """User + system CPU time of this process's reaped children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def stored_applications(database_url: str) -> int:
    """Submissions in the bench database: what every 201 must have left behind."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(text("SELECT count(*) FROM submissions"))).scalar_one())
    finally:
        await engine.dispose()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    prefix = unique_topic_prefix()
    database_url = await fresh_postgres_database(DATABASE)
    destination_key = RSAKey.generate_key(4096, parameters={"kid": "bench-dest"}, private=True)
    # zufi signs routes with a key of the suite's own size, so verifying costs what it costs in production.
    zufi_key = RSAKey.generate_key(MIN_RSA_BITS, parameters={"kid": "bench-zufi"}, private=True)
    destination_id = "bench-destination"
    var = Path(tempfile.mkdtemp(prefix="bench-submission-"))
    generator = await intake_load_generator(args.generator, var)
    print(f"load generator: {generator.name}", file=sys.stderr, flush=True)
    secret = "bench-sender-secret-0123456789"
    (var / "clients.json").write_text(
        json.dumps([{"client_id": "bench", "client_secret": secret, "scopes": ["send"]}])
    )

    async with serving(zufi_double(zufi_key)) as zufi_url:
        port, trivial_port = free_port(), free_port()
        environment = os.environ | {
            "OZG_SUBMISSION_DATABASE_URL": database_url,
            "OZG_SUBMISSION_PORT": str(port),
            "OZG_SUBMISSION_TOPIC_PREFIX": prefix,
            "OZG_SUBMISSION_TOPIC_PARTITIONS": "3",
            "OZG_SUBMISSION_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap(),
            "OZG_SUBMISSION_VAR_DIR": str(var),
            "OZG_SUBMISSION_ZUFI_URL": zufi_url,
            "OZG_SUBMISSION_BOOTSTRAP_CLIENTS_FILE": str(var / "clients.json"),
            "OZG_SUBMISSION_DATABASE_POOL_SIZE": "20",
            "OZG_SUBMISSION_LOG_LEVEL": "WARNING",
        }
        if args.workers > 1:
            # Migrations and bootstrap clients once, by a single process, before the workers race.
            first = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ozg_submission", env=environment
            )
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                await wait_until(lambda: _ok(http, "/readyz"), 60, "submission (migrations)")
            first.terminate()
            async with asyncio.timeout(30):
                await first.wait()
            command = [
                *("-m", "uvicorn", "--factory", "ozg_submission.app:create_app"),
                *("--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers)),
                *("--no-access-log", "--log-level", "warning"),
            ]
        else:
            command = ["-m", "ozg_submission"]
        server = await asyncio.create_subprocess_exec(sys.executable, *command, env=environment)
        print(f"submission server pid {server.pid} (attach a profiler to it)", file=sys.stderr, flush=True)
        trivial = multiprocessing.get_context("spawn").Process(target=serve_trivial, args=(trivial_port,))
        trivial.start()
        base, trivial_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{trivial_port}"
        try:
            async with httpx.AsyncClient(base_url=base, timeout=10) as http:
                await wait_until(lambda: _ok(http, "/readyz"), 60, "submission")
                await publish(
                    prefix,
                    [
                        ServiceChanged(
                            leika_key=LEIKA_KEY,
                            name="Hund anmelden",
                            level="GEMEINDE",
                            payment_required=False,
                            form_schema=FORM_SCHEMA,
                        ),
                        DestinationChanged(
                            destination_id=destination_id,
                            status="active",
                            name="Amt Bench",
                            authority_id="bench",
                            zustellkanal=Zustellkanal(
                                channel_type="webservice", url="http://127.0.0.1:9/kop"
                            ),
                            encryption_kid="bench-dest",
                            encryption_key=destination_key.as_dict(private=False),
                            services=[LEIKA_KEY],
                        ),
                    ],
                )
                token = (
                    await http.post(
                        "/token",
                        data={
                            "grant_type": "client_credentials",
                            "client_id": "bench",
                            "client_secret": secret,
                        },
                    )
                ).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                await wait_until(
                    lambda: _ok(http, f"/v1/destinations/{destination_id}", headers), 60, "read model"
                )
            await wait_until(lambda: _ok_url(trivial_base + "/docs"), 30, "trivial endpoint")

            signature = signed_route(zufi_key, destination_id)
            bodies = [
                {
                    "leikaKey": LEIKA_KEY,
                    "destinationSignature": signature,
                    "applicant": {
                        "givenName": "Erika",
                        "familyName": f"Muster{i}",
                        "email": f"e{i}@example.org",
                        "address": {
                            "street": "Holstenstraße",
                            "houseNumber": str(i % 200 + 1),
                            "postalCode": "24103",
                            "city": "Kiel",
                            "country": "DE",
                        },
                    },
                    "formData": {
                        "hund": {
                            "name": f"Bello {i}",
                            "rasse": "Mischling",
                            "geburtsjahr": 2015 + i % 9,
                            "gewicht": 12.5,
                            "gefaehrlich": False,
                        },
                        "halterSeit": "2024-01-01",
                    },
                    "replyChannel": {"idBundDeMailbox": {"mailboxUuid": f"00000000-0000-4000-8000-{i:012d}"}},
                }
                for i in range(500)
            ]
            await generator.saturate(base, "/v1/applications", bodies, headers, 4, 3, 201)  # warm-up
            await generator.saturate(trivial_base, "/ping", bodies, {}, 4, 2, 200)
            results: dict[str, Any] = {"intake": [], "trivial": []}
            for _ in range(args.rounds):
                trivial_result, _ = await generator.saturate(
                    trivial_base, "/ping", bodies, {}, args.concurrency, args.seconds / 2, 200
                )
                results["trivial"].append(trivial_result)
                stored_before = await stored_applications(database_url)
                cpu_before = tree_cpu_seconds(server.pid)
                postgres_before = postgres_cpu_seconds(DATABASE)
                print("intake round starts", file=sys.stderr, flush=True)
                round_result, generator_cpu = await generator.saturate(
                    base, "/v1/applications", bodies, headers, args.concurrency, args.seconds, 201
                )
                done = max(1, round_result["requests"])
                for name, seconds in (
                    ("server", tree_cpu_seconds(server.pid) - cpu_before),
                    ("postgres", postgres_cpu_seconds(DATABASE) - postgres_before),
                    ("load_generator", generator_cpu),
                ):
                    round_result[f"{name}_cpu_ms_per_submission"] = round(seconds * 1000 / done, 2)
                round_result["stored_applications"] = await stored_applications(database_url) - stored_before
                print("intake round", round_result, file=sys.stderr, flush=True)
                results["intake"].append(round_result)
            async with httpx.AsyncClient(base_url=base, timeout=10) as http:
                metrics = (await http.get("/metrics")).text
                # Accepted is not yet relayed: how long the outbox takes to reach Kafka after the load.
                load_ended = time.monotonic()
                drained_after: float | None = None
                while time.monotonic() - load_ended < 120:
                    if _backlog(await _metrics(http)) == "0.0":
                        drained_after = round(time.monotonic() - load_ended, 1)
                        break
                    await asyncio.sleep(0.5)
        finally:
            server.terminate()
            async with asyncio.timeout(30):
                await server.wait()
            trivial.terminate()
            trivial.join(10)

    best = max(results["intake"], key=lambda r: r["requests_per_second"])
    trivial_best = max(results["trivial"], key=lambda r: r["requests_per_second"])
    backlog = _backlog(metrics)
    return {
        "benchmark": "submission native intake (POST /v1/applications)",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "load_generator": generator.name,
        "concurrency": args.concurrency,
        "server_processes": args.workers,
        "target_submissions_per_second": 200,
        "submissions_per_second": best["requests_per_second"],
        "p50_ms": best["p50_ms"],
        "p99_ms": best["p99_ms"],
        "server_cpu_ms_per_submission": best["server_cpu_ms_per_submission"],
        "postgres_cpu_ms_per_submission": best["postgres_cpu_ms_per_submission"],
        "load_generator_cpu_ms_per_submission": best["load_generator_cpu_ms_per_submission"],
        "trivial_requests_per_second": trivial_best["requests_per_second"],
        "trivial_p99_ms": trivial_best["p99_ms"],
        "outbox_backlog_at_end": backlog,
        "outbox_drained_seconds_after_load": drained_after,
        "intake_errors": sum(r["errors"] for r in results["intake"]),
        # Each 201 is a stored application, and nothing was stored that was not answered 201.
        "stored_matches_answered_201": all(
            r["stored_applications"] == r["requests"] - r["errors"] for r in results["intake"]
        ),
        "rounds": results,
    }


async def _ok(http: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None) -> bool:
    return (await http.get(path, headers=headers)).status_code == 200


def _backlog(metrics: str) -> str:
    return next((line.split()[-1] for line in metrics.splitlines() if line.startswith("outbox_backlog")), "?")


async def _metrics(http: httpx.AsyncClient) -> str:
    return (await http.get("/metrics")).text


async def _ok_url(url: str) -> bool:
    async with httpx.AsyncClient(timeout=2) as http:
        return (await http.get(url)).status_code == 200


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default: one)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    add_generator_argument(parser)
    args = parser.parse_args()
    report = asyncio.run(main(args))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"intake: {report['submissions_per_second']} submissions/s, p50 {report['p50_ms']} ms, "
        f"p99 {report['p99_ms']} ms (target ≥ 200/s), CPU per submission: server "
        f"{report['server_cpu_ms_per_submission']} ms, "
        f"PostgreSQL {report['postgres_cpu_ms_per_submission']} ms, "
        f"load generator {report['load_generator_cpu_ms_per_submission']} ms | trivial endpoint: "
        f"{report['trivial_requests_per_second']} req/s, p99 {report['trivial_p99_ms']} ms"
    )
    print(
        f"load generator: {report['load_generator']}; intake errors {report['intake_errors']}; "
        f"every 201 stored and nothing else: {report['stored_matches_answered_201']}"
    )
    sys.exit(0 if report["intake_errors"] == 0 and report["stored_matches_answered_201"] else 1)
