"""kop-gateway delivery throughput: deliveries/s and p99 from event to receiver.

Runs, against a local receiver in its own process (it verifies every Standard Webhooks signature):
1. raw     — a plain aiohttp POST loop (the HTTP client the gateway sends with, same concurrency,
   same bodies, kept-alive connections): the ceiling;
2. gateway — events into Kafka → kop-gateway (PostgreSQL, real worker) → receiver, ten destinations;
3. one down — the same with one of the ten destinations hanging (never answering).
Ends with a verdict against the targets (gateway ≥ 60 % of raw; the nine healthy destinations keep
≥ 80 % of run 2's throughput in run 3; every delivery to a healthy destination arrived) and exits 1
when one is missed or nothing was measured. Writes bench/results/kop_delivery.json (or `--output`).

    uv run python bench/kop_delivery.py [--deliveries 3000]
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from _verdict import Target, exit_code, verdict

RESULTS = Path(__file__).parent / "results" / "kop_delivery.json"
MASTER_SECRET = "bench-master-secret-for-kop-delivery-0123456789"
DESTINATIONS = 10
TARGET_GATEWAY_VS_RAW = 0.6
TARGET_HEALTHY_RATIO = 0.8
"""With one destination hanging, the nine healthy ones keep at least this share of the all-up rate."""


def receiver_main(port: int) -> None:
    """The receiver process: verifies signatures, notes arrival times, answers 200 (or hangs)."""
    import uvicorn
    from fastapi import FastAPI, Request, Response

    from ozg_common.webhooks import derive_destination_secret, verify_standard_webhook

    app = FastAPI()
    arrivals: list[tuple[str, str, float]] = []
    secrets: dict[str, str] = {}

    @app.post("/kop/{destination_id}")
    async def kop(destination_id: str, request: Request) -> Response:
        body = await request.body()
        if destination_id.startswith("down-"):
            await asyncio.sleep(3600)
        if "webhook-signature" in request.headers:
            secret = secrets.get(destination_id)
            if secret is None:
                secret = secrets[destination_id] = derive_destination_secret(MASTER_SECRET, destination_id)
            verify_standard_webhook(secret, request.headers, body)
        document = json.loads(body)
        arrivals.append((destination_id, document["submissionId"], time.time()))
        return Response(status_code=204)

    @app.get("/arrivals")
    async def list_arrivals() -> list[tuple[str, str, float]]:
        return arrivals

    @app.post("/reset")
    async def reset() -> None:
        arrivals.clear()

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def envelope(destination_id: str) -> dict[str, Any]:
    """A body of realistic size: two small JWEs and one attachment reference."""
    submission_id = str(uuid.uuid4())
    return {
        "destination_id": destination_id,
        "submission_id": submission_id,
        "case_id": str(uuid.uuid4()),
        "leika_key": "99123456789012",
        "service_name": "Hundesteuer Anmeldung",
        "encrypted_metadata": "eyJhbGciOiJSU0EtT0FFUC0yNTYifQ." + "m" * 1200,
        "encrypted_data": "eyJhbGciOiJSU0EtT0FFUC0yNTYifQ." + "d" * 2400,
        "attachments": [
            {
                "attachment_id": str(uuid.uuid4()),
                "size": 1800,
                "sha512": "ab" * 64,
                "download_url": f"http://127.0.0.1:8002/v1/submissions/{submission_id}/attachments/a",
            }
        ],
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def arrivals(http: httpx.AsyncClient) -> list[tuple[str, str, float]]:
    answer = await http.get("/arrivals", timeout=30)
    return [tuple(item) for item in answer.json()]


async def raw_loop(receiver: str, count: int, concurrency: int) -> dict[str, float]:
    """The ceiling: POST the same bodies straight to the receiver, with the gateway's HTTP client."""
    bodies = [envelope(f"raw-{i % DESTINATIONS}") for i in range(count)]
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                document = {
                    "type": "submission",
                    "deliveryId": str(uuid.uuid4()),
                    "submissionId": body["submission_id"],
                }
                async with client.post(
                    f"{receiver}/kop/{body['destination_id']}",
                    data=json.dumps(document | body).encode(),
                    headers={"content-type": "application/json"},
                ) as answer:
                    answer.raise_for_status()
                    await answer.read()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"deliveries": count, "seconds": round(elapsed, 3), "per_second": round(count / elapsed, 1)}


async def gateway_run(
    receiver: str, count: int, destinations: list[str], down: list[str], suite: Any
) -> dict[str, Any]:
    """Publish `count` ready-for-delivery events round-robin and wait for the healthy ones to arrive."""
    from ozg_common.contracts.submission import SubmissionReadyForDelivery

    kafka, http_receiver = suite
    healthy = [d for d in destinations if d not in down]
    everyone = destinations
    sent: dict[str, float] = {}
    expected = 0
    await http_receiver.post("/reset")
    started = time.time()
    for i in range(count):
        destination_id = everyone[i % len(everyone)]
        event = SubmissionReadyForDelivery.model_validate(envelope(destination_id))
        sent[event.submission_id] = time.time()
        await kafka.publish(event, wait=False)
        if destination_id in healthy:
            expected += 1
    await kafka.flush()
    published = time.time()
    deadline = time.monotonic() + 600
    while True:
        got = [a for a in await arrivals(http_receiver) if a[0] in healthy]
        if len(got) >= expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.25)
    latencies = [(at - sent[submission]) * 1000 for _, submission, at in got if submission in sent]
    figures: dict[str, Any] = {
        "deliveries": len(got),
        "expected": expected,
        "publish_seconds": round(published - started, 3),
    }
    if not latencies:  # nothing arrived: no rate, no latency (the verdict calls that missed)
        return figures | {"seconds": None, "per_second": 0.0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    elapsed = max(at for _, _, at in got) - started
    return figures | {
        "seconds": round(elapsed, 3),
        "per_second": round(len(got) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
    }


async def receiver_ready(http: httpx.AsyncClient, process: subprocess.Popen[bytes], within: float) -> None:
    """Wait for the receiver process to answer (its start takes long on a busy machine)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the receiver exited with {process.returncode}")
        with suppress(httpx.HTTPError):
            if (await http.get("/arrivals")).status_code == 200:
                return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"the receiver did not answer within {within:.0f} s")


class Publisher:
    def __init__(self, producer: Any, prefix: str) -> None:
        self.producer = producer
        self.prefix = prefix
        self.pending: list[asyncio.Future[Any]] = []

    async def publish(self, event: Any, *, wait: bool = True) -> None:
        from ozg_testing import send_event

        _, future = await send_event(self.producer, event, source="/bench", prefix=self.prefix)
        if wait:
            await future
        else:
            self.pending.append(future)

    async def flush(self) -> None:
        await asyncio.gather(*self.pending)
        self.pending.clear()


async def main(count: int, concurrency: int) -> dict[str, Any]:
    from ozg_common.contracts.zufi import DestinationChanged, Zustellkanal
    from ozg_common.kafka import durable_producer
    from ozg_kop_gateway.app import create_app
    from ozg_kop_gateway.settings import KopGatewaySettings
    from ozg_testing import (
        app_client,
        free_port,
        fresh_postgres_database,
        kafka_bootstrap,
        unique_topic_prefix,
    )

    port = free_port()
    receiver_url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
        [sys.executable, __file__, "--receiver", str(port)], env=os.environ.copy()
    )
    try:
        async with httpx.AsyncClient(base_url=receiver_url) as http_receiver:
            await receiver_ready(http_receiver, process, within=120)
            results: dict[str, Any] = {"concurrency": concurrency, "destinations": DESTINATIONS}
            print(f"raw aiohttp loop: {count} POSTs, concurrency {concurrency} ...", flush=True)
            results["raw"] = await raw_loop(receiver_url, count, concurrency)
            print(f"  {results['raw']}", flush=True)

            settings = KopGatewaySettings(
                database_url=await fresh_postgres_database("bench_kop_gateway"),
                kafka_bootstrap_servers=kafka_bootstrap(),
                topic_prefix=unique_topic_prefix(),
                signing_master_secret=MASTER_SECRET,
                allow_loopback=True,
                allow_http=True,
                max_in_flight=concurrency,
                destination_concurrency=max(8, concurrency // DESTINATIONS * 2),
                destination_rate_limit=10_000,
                destination_rate_burst=10_000,
                log_level="WARNING",
            )
            app = create_app(settings)
            producer = durable_producer(kafka_bootstrap(), "bench-kop")
            await producer.start()
            try:
                async with app_client(app):
                    kafka = Publisher(producer, settings.topic_prefix)
                    up = [f"up-{i}-{uuid.uuid4().hex[:6]}" for i in range(DESTINATIONS)]
                    mixed = [*up[:-1], f"down-{uuid.uuid4().hex[:6]}"]
                    for destination_id in {*up, *mixed}:
                        await kafka.publish(
                            DestinationChanged(
                                destination_id=destination_id,
                                status="active",
                                name=destination_id,
                                authority_id="bench",
                                zustellkanal=Zustellkanal(
                                    channel_type="webservice", url=f"{receiver_url}/kop/{destination_id}"
                                ),
                                encryption_kid="k",
                                encryption_key={},
                            )
                        )
                    await asyncio.sleep(3)  # the destination read model fills
                    suite = (kafka, http_receiver)
                    print("warm-up ...", flush=True)
                    await gateway_run(receiver_url, 200, up, [], suite)
                    print(f"gateway: {count} events, {DESTINATIONS} destinations ...", flush=True)
                    results["gateway"] = await gateway_run(receiver_url, count, up, [], suite)
                    print(f"  {results['gateway']}", flush=True)
                    print("gateway with one destination hanging ...", flush=True)
                    results["one_down"] = await gateway_run(receiver_url, count, mixed, [mixed[-1]], suite)
                    print(f"  {results['one_down']}", flush=True)
            finally:
                await producer.stop()
    finally:
        process.kill()  # it holds the hanging destination's requests: no graceful stop
        process.wait(10)

    raw_rate = results["raw"]["per_second"]
    all_up = results["gateway"]["per_second"]
    results["summary"] = {
        "raw_client": f"aiohttp {aiohttp.__version__}",
        "gateway_vs_raw": round(all_up / raw_rate, 3) if raw_rate else None,
        "target_gateway_vs_raw": TARGET_GATEWAY_VS_RAW,
        "healthy_throughput_with_one_down_vs_all_up": (
            round(results["one_down"]["per_second"] / all_up, 3) if all_up else None
        ),
        "target_healthy_ratio": TARGET_HEALTHY_RATIO,
    }
    return results


def judged(results: dict[str, Any]) -> dict[str, Any]:
    """The verdict: the gateway against the raw client, the healthy destinations with one down, and
    every delivery to a healthy destination arrived."""
    summary = results["summary"]
    missing = sum(results[run]["expected"] - results[run]["deliveries"] for run in ("gateway", "one_down"))
    return verdict(
        "kop_delivery",
        [
            Target("gateway/raw throughput", summary["gateway_vs_raw"], ">=", TARGET_GATEWAY_VS_RAW),
            Target(
                "healthy destinations with one down/all up",
                summary["healthy_throughput_with_one_down_vs_all_up"],
                ">=",
                TARGET_HEALTHY_RATIO,
            ),
            Target("deliveries measured", results["gateway"]["deliveries"], ">=", 1),
            Target("deliveries to healthy destinations missing", missing, "<=", 0),
        ],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=RESULTS)
    arguments = parser.parse_args()
    if arguments.receiver:
        receiver_main(arguments.receiver)
        sys.exit(0)
    outcome = asyncio.run(main(arguments.deliveries, arguments.concurrency))
    print(json.dumps(outcome["summary"], indent=2))
    outcome["verdict"] = judged(outcome)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(outcome, indent=2) + "\n")
    print(f"written {arguments.output}")
    sys.exit(exit_code(outcome["verdict"]))
