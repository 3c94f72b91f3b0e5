"""kop-gateway delivery throughput: deliveries/s and p99 from event to receiver.

Runs, against a local receiver in its own process (it verifies every Standard Webhooks signature):
1. raw     — a plain httpx POST loop (same concurrency, same bodies): the ceiling;
2. gateway — events into Kafka → kop-gateway (PostgreSQL, real worker) → receiver, ten destinations;
3. one down — the same with one of the ten destinations hanging (never answering):
   the other nine must keep ≥ 80 % of their throughput from run 2.
Prints the figures and writes bench/results/kop_delivery.json.

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

import httpx

RESULTS = Path(__file__).parent / "results" / "kop_delivery.json"
MASTER_SECRET = "bench-master-secret-for-kop-delivery-0123456789"
DESTINATIONS = 10


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
    return [tuple(item) for item in answer.json()]  # type: ignore[misc]


async def raw_loop(receiver: str, count: int, concurrency: int) -> dict[str, float]:
    """The ceiling: POST the same bodies straight to the receiver."""
    bodies = [envelope(f"raw-{i % DESTINATIONS}") for i in range(count)]
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=15) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                document = {
                    "type": "submission",
                    "deliveryId": str(uuid.uuid4()),
                    "submissionId": body["submission_id"],
                }
                answer = await client.post(
                    f"{receiver}/kop/{body['destination_id']}",
                    content=json.dumps(document | body).encode(),
                    headers={"content-type": "application/json"},
                )
                answer.raise_for_status()

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
    finished = max(at for _, _, at in got)
    elapsed = finished - started
    return {
        "deliveries": len(got),
        "expected": expected,
        "publish_seconds": round(published - started, 3),
        "seconds": round(elapsed, 3),
        "per_second": round(len(got) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
    }


class Publisher:
    def __init__(self, producer: Any, prefix: str) -> None:
        self.producer = producer
        self.prefix = prefix
        self.pending: list[asyncio.Future[Any]] = []

    async def publish(self, event: Any, *, wait: bool = True) -> None:
        from ozg_common.testing import send_event

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
    from ozg_common.testing import (
        app_client,
        free_port,
        fresh_postgres_database,
        kafka_bootstrap,
        unique_topic_prefix,
    )
    from ozg_kop_gateway.app import create_app
    from ozg_kop_gateway.settings import KopGatewaySettings

    port = free_port()
    receiver_url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
        [sys.executable, __file__, "--receiver", str(port)], env=os.environ.copy()
    )
    try:
        async with httpx.AsyncClient(base_url=receiver_url) as http_receiver:
            for _ in range(100):
                with suppress(httpx.HTTPError):
                    if (await http_receiver.get("/arrivals")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            results: dict[str, Any] = {"concurrency": concurrency, "destinations": DESTINATIONS}
            print(f"raw httpx loop: {count} POSTs, concurrency {concurrency} ...", flush=True)
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
    # Compare like with like: the nine healthy destinations' share in the all-up run.
    nine_before = all_up
    nine_after = results["one_down"]["per_second"]
    results["summary"] = {
        "gateway_vs_raw": round(all_up / raw_rate, 3),
        "target_gateway_vs_raw": 0.6,
        "healthy_throughput_with_one_down_vs_all_up": round(nine_after / nine_before, 3),
        "target_healthy_ratio": 0.8,
    }
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.receiver:
        receiver_main(arguments.receiver)
        sys.exit(0)
    outcome = asyncio.run(main(arguments.deliveries, arguments.concurrency))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(outcome, indent=2) + "\n")
    print(json.dumps(outcome["summary"], indent=2))
    print(f"written {RESULTS}")
