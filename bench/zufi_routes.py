"""Throughput and latency of zufi's `GET /v1/routes` beside a trivial FastAPI endpoint, on loopback.

Starts zufi (`python -m ozg_zufi`, SQLite by default or `--postgres`) and a trivial FastAPI app,
each its own uvicorn process, then per target:
  1. saturation: `--concurrency` clients in a closed loop for `--seconds` → requests/s, p50/p99;
  2. fixed rate: `--rate` requests/s (open loop) for `--seconds` → p50/p99 at that rate.
Both run `--rounds` times, interleaved; each target is judged by its best round, all rounds are kept.
The route queries cycle over real Gemeinden (AGS) and the demo services, warmed once so the
destinationSignature cache and the answer cache are filled (a first lookup signs and serializes,
every later one of the same query is read from memory). Once, after the rounds, the fixed rate is
also sent as queries that are each new to zufi (`routes_uncached_at_rate`, an extra parameter the
API ignores makes every query string unique): the cost of a first lookup, not judged.
The load comes from vegeta (Go; `bench/tools.sh vegeta` builds it once into `.cache/`): an open-loop
pacer that costs a few percent of a core at 500 req/s, where a Python generator on the same 2 cores
eats one core and its own scheduling delays dominate the latencies. Without Go (or with
`--generator python`) the Python/httpx generator below is used; the result names which one ran.
Results: bench/results/zufi_routes.json (or `--output`). Kafka is off for zufi here: its outbox relay
is not measured.

Ends with a verdict against the targets (throughput ≥ 70 % of the trivial endpoint's, p99 < 20 ms
at 500 req/s, no errors) and exits 1 when one is missed or nothing was measured.
"""

import argparse
import asyncio
import csv
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from _stats import summary
from _vegeta import Summary, Vegeta, add_generator_argument, find_vegeta, summarize
from _verdict import Target, exit_code, verdict

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "zufi_routes.json"
DATA = ROOT / "services" / "zufi" / "src" / "ozg_zufi" / "data" / "gv-auszug.csv"
SERVICES = ["99050035001000", "99110007000000", "99036005001000", "99107002001000"]
TARGET_RATIO = 0.70
"""`/v1/routes` throughput at least this share of the trivial endpoint's."""
TARGET_RATE = 500.0
TARGET_P99_MS = 20.0
"""p99 below this at `TARGET_RATE` requests/s."""


def trivial_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def serve_trivial(port: int) -> None:
    import uvicorn

    uvicorn.run(trivial_app(), host="127.0.0.1", port=port, log_config=None, access_log=False)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_healthy(url: str, process: subprocess.Popen[bytes], within: float) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{url} exited with {process.returncode}")
            try:
                if (await client.get(url, timeout=1)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} did not start within {within}s")


def gemeinden(sample: int) -> list[str]:
    with DATA.open(encoding="utf-8-sig", newline="") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["satzart"] == "60" and r["textkennzeichen"] not in {"65", "66"}
        ]
    keys = [r["land"] + r["rb"] + r["kreis"] + r["gemeinde"] for r in rows]
    return random.Random(7).sample(keys, sample)


async def saturate(base: str, paths: list[str], concurrency: int, seconds: float) -> dict[str, float | int]:
    """Closed loop: each worker has its own keep-alive connection (no shared pool to contend on)."""
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def worker(offset: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            i = offset
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    ok = (await client.get(paths[i % len(paths)])).status_code == 200
                except httpx.HTTPError:
                    ok = False
                errors += not ok
                latencies.append(time.perf_counter() - started)
                i += concurrency

    began = time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return summary(latencies, time.monotonic() - began, errors)


async def fixed_rate(
    base: str, paths: list[str], rate: float, seconds: float, connections: int = 64
) -> dict[str, float | int]:
    """Open loop: requests leave on schedule over a pool of warm keep-alive connections."""
    latencies: list[float] = []
    errors = 0
    clients = [httpx.AsyncClient(base_url=base, timeout=10) for _ in range(connections)]
    await asyncio.gather(*(client.get(paths[0]) for client in clients))
    idle: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
    for client in clients:
        idle.put_nowait(client)

    async def one(path: str, scheduled: float) -> None:
        nonlocal errors
        client = await idle.get()
        try:
            ok = (await client.get(path)).status_code == 200
        except httpx.HTTPError:
            ok = False
        idle.put_nowait(client)
        errors += not ok
        # Latency from the scheduled send time: waiting for a connection counts too.
        latencies.append(time.perf_counter() - scheduled)

    tasks = []
    began = time.perf_counter()
    for n in range(int(rate * seconds)):
        scheduled = began + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(paths[n % len(paths)], scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    for client in clients:
        await client.aclose()
    return summary(latencies, elapsed, errors) | {"target_rate": rate, "connections": connections}


class PythonLoad:
    """The fallback generator: httpx in this process (it competes with the servers for the cores)."""

    def __init__(self, why: str) -> None:
        self.name = f"python httpx ({why})"

    async def saturate(self, base: str, paths: list[str], concurrency: int, seconds: float) -> Summary:
        return await saturate(base, paths, concurrency, seconds)

    async def fixed_rate(self, base: str, paths: list[str], rate: float, seconds: float) -> Summary:
        return await fixed_rate(base, paths, rate, seconds)


class VegetaLoad:
    """vegeta over GET targets: `saturate` closed loop, `fixed_rate` paced (open loop, new workers
    when all are busy)."""

    def __init__(self, vegeta: Vegeta) -> None:
        self.vegeta = vegeta
        self.name = vegeta.name

    async def saturate(self, base: str, paths: list[str], concurrency: int, seconds: float) -> Summary:
        # Rate 0: as fast as `concurrency` workers go, each waiting for its answer (closed loop).
        flags = ["-rate=0", f"-workers={concurrency}", f"-max-workers={concurrency}"]
        return await self._attack(base, paths, seconds, flags)

    async def fixed_rate(self, base: str, paths: list[str], rate: float, seconds: float) -> Summary:
        summary = await self._attack(base, paths, seconds, [f"-rate={rate:g}/1s", "-workers=64"])
        return summary | {"target_rate": rate}

    async def _attack(self, base: str, paths: list[str], seconds: float, flags: list[str]) -> Summary:
        targets = "".join(f"GET {base}{path}\n\n" for path in paths)
        hits = await self.vegeta.attack(targets, seconds, ["-timeout=10s", *flags], json_targets=False)
        report = await self.vegeta.report(hits)
        hits.unlink()
        return summarize(report, round(report["success"] * report["requests"]))


LoadGenerator = PythonLoad | VegetaLoad


async def load_generator(choice: str, workdir: Path) -> LoadGenerator:
    """vegeta unless told otherwise or it cannot be had; then the Python generator, saying why."""
    binary, why = await find_vegeta(choice)
    if binary is None:
        return PythonLoad(why)
    return VegetaLoad(Vegeta(binary, workdir))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    var_dir = Path(tempfile.mkdtemp(prefix="zufi-bench-"))
    zufi_port, trivial_port = free_port(), free_port()
    env = {
        **os.environ,
        "OZG_ZUFI_PORT": str(zufi_port),
        "OZG_ZUFI_VAR_DIR": str(var_dir),
        "OZG_ZUFI_KAFKA_ENABLED": "false",
        "OZG_ZUFI_RATE_LIMIT_BURST": "1000000000",
        "OZG_ZUFI_RATE_LIMIT_PER_SECOND": "1000000000",
        "OZG_ZUFI_LOG_LEVEL": "WARNING",
    }
    generator = await load_generator(args.generator, var_dir)
    print(f"load generator: {generator.name}", file=sys.stderr)
    database = "sqlite"
    if args.postgres:
        from ozg_testing import fresh_postgres_database

        env["OZG_ZUFI_DATABASE_URL"] = await fresh_postgres_database("bench_zufi")
        database = "postgresql"
    log = (var_dir / "zufi.log").open("wb")
    zufi = subprocess.Popen(  # noqa: ASYNC220 - Popen returns at once
        [sys.executable, "-m", "ozg_zufi"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    trivial = subprocess.Popen(  # noqa: ASYNC220 - Popen returns at once
        [sys.executable, __file__, "--serve-trivial", str(trivial_port)]
    )
    try:
        started = time.monotonic()
        await wait_healthy(f"http://127.0.0.1:{zufi_port}/readyz", zufi, 300)
        startup = round(time.monotonic() - started, 1)
        await wait_healthy(f"http://127.0.0.1:{trivial_port}/ping", trivial, 60)
        keys = gemeinden(args.gemeinden)
        paths = [f"/v1/routes?leikaKey={s}&ags={a}" for a in keys for s in SERVICES]
        random.Random(11).shuffle(paths)
        zufi_base, trivial_base = f"http://127.0.0.1:{zufi_port}", f"http://127.0.0.1:{trivial_port}"
        async with httpx.AsyncClient(base_url=zufi_base, timeout=60) as client:
            for path in paths:  # every route signed once: the cache the service keeps warm
                assert (await client.get(path)).status_code == 200
        results: dict[str, Any] = {
            "database": database,
            "zufi_startup_seconds_with_import_and_seed": startup,
            "distinct_route_queries": len(paths),
            "concurrency": args.concurrency,
        }
        phases: dict[str, Callable[[], Awaitable[Summary]]] = {
            "trivial_saturation": lambda: generator.saturate(
                trivial_base, ["/ping"], args.concurrency, args.seconds
            ),
            "routes_saturation": lambda: generator.saturate(zufi_base, paths, args.concurrency, args.seconds),
            "trivial_at_rate": lambda: generator.fixed_rate(trivial_base, ["/ping"], args.rate, args.seconds),
            "routes_at_rate": lambda: generator.fixed_rate(zufi_base, paths, args.rate, args.seconds),
        }
        # A shared machine is noisy: interleave the targets over several rounds, keep every round,
        # and judge each target by its best round (the same rule for both).
        rounds: dict[str, list[Summary]] = {name: [] for name in phases}
        for _ in range(args.rounds):
            for name, phase in phases.items():
                rounds[name].append(await phase())
                print(name, rounds[name][-1], file=sys.stderr)
        for name, runs in rounds.items():
            if name.endswith("saturation"):
                results[name] = max(runs, key=lambda r: r["requests_per_second"])
            else:
                results[name] = min(runs, key=lambda r: r["p99_ms"])
        results["rounds"] = rounds
        fresh = [
            f"{path}&bench={n}"
            for n, path in enumerate(paths * math.ceil(args.rate * args.seconds / len(paths)))
        ]
        results["routes_uncached_at_rate"] = await generator.fixed_rate(
            zufi_base, fresh, args.rate, args.seconds
        )
        print("routes_uncached_at_rate", results["routes_uncached_at_rate"], file=sys.stderr)
        trivial_rps = results["trivial_saturation"]["requests_per_second"]
        results["throughput_ratio"] = (
            round(results["routes_saturation"]["requests_per_second"] / trivial_rps, 3)
            if trivial_rps
            else None
        )
        results["cpu_count"] = os.cpu_count()
        results["load_generator"] = generator.name
        results["note"] = "the load generator shares the machine's cores with both servers"
        return results
    finally:
        for process in (zufi, trivial):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def judged(results: dict[str, Any]) -> dict[str, Any]:
    """The verdict: throughput against the trivial endpoint, p99 at the target rate, no errors."""
    at_rate = results["routes_at_rate"]
    return verdict(
        "zufi_routes",
        [
            Target("routes/trivial throughput", results["throughput_ratio"], ">=", TARGET_RATIO),
            # A p99 counts only if the load really came at the target rate.
            Target(
                "routes at the target rate",
                at_rate["requests_per_second"],
                ">=",
                0.95 * TARGET_RATE,
                " req/s",
            ),
            Target(
                "routes p99 at the target rate",
                at_rate["p99_ms"] if at_rate["requests"] else None,
                "<",
                TARGET_P99_MS,
                " ms",
            ),
            Target(
                "routes errors",
                sum(results[name]["errors"] for name in ("routes_saturation", "routes_at_rate")),
                "<=",
                0,
            ),
        ],
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--serve-trivial", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--postgres", action="store_true", help="zufi on PostgreSQL instead of SQLite")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=TARGET_RATE)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gemeinden", type=int, default=250, help="distinct Gemeinden in the query mix")
    parser.add_argument("--output", type=Path, default=RESULTS)
    add_generator_argument(parser)
    args = parser.parse_args()
    if args.serve_trivial:
        serve_trivial(args.serve_trivial)
        return 0
    results = asyncio.run(run(args))
    for name in (
        "trivial_saturation",
        "routes_saturation",
        "trivial_at_rate",
        "routes_at_rate",
        "routes_uncached_at_rate",
    ):
        r = results[name]
        rps, p50, p99 = r["requests_per_second"], r["p50_ms"], r["p99_ms"]
        print(f"{name:24s} {rps:8.1f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
    print(f"throughput ratio {results['throughput_ratio']} (routes/trivial, kept answers)")
    print(f"load generator: {results['load_generator']}")
    results["verdict"] = judged(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {args.output}")
    return exit_code(results["verdict"])


if __name__ == "__main__":
    sys.exit(main())
