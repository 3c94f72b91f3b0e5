"""End-to-end load: N applications at a fixed rate, from accepted to received by the Fachverfahren.

Starts the whole suite as processes on PostgreSQL and Kafka (bench_e2e_* databases, own topics,
free ports), the demo receiver in store-only mode (it verifies, dedupes and stores every
delivery but does not decrypt: RSA-4096 there would compete for the same 2 cores). Sends
`--applications` at `--rate` per second (by default 170/s, above the target: beyond what the suite
takes, the sender's `--in-flight` limit holds the rest back, as a form server's connection pool
would), alternating the native intake and the FIT-Connect API
(encrypted by the sender), then measures:
  - throughput: accepted per second (sender) and received per second (receiver), sustained (the
    mean of the per-second counts without the first and last five seconds) and over the whole run;
  - latency from the 2xx answer to the receiver's stored timestamp, p50/p95/p99, over time;
  - CPU seconds per process during the run (where the time goes), and the CPU per application
    as a multiple of a fixed reference loop timed in the same run (`bench/_proc.py`), which
    compares between hosts where milliseconds do not.
Results: bench/results/e2e_load.json and bench/results/e2e_load.png (or `--output-dir`).

Ends with a verdict against the targets (≥ 150 applications/s received sustained, p99 < 2 s, none
lost) and exits 1 when one is missed or nothing was measured (a run too short for a sustained rate
measures none).
"""

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _proc import TICKS, is_postgres, matching_cpu_seconds, processes, reference_loop_cpu_ms, tree_cpu_seconds
from _verdict import Target, exit_code, verdict
from _workload import (
    CHANNELS,
    Load,
    percentile,
    prepare_all,
    received,
    targets,
    wait_for_deliveries,
    with_partitions,
)

from ozg_common.settings import PROJECT_ROOT
from ozg_testing.suite_harness import Suite, postgres_suite

RESULTS = PROJECT_ROOT / "bench" / "results"
TARGET_RECEIVED_PER_SECOND = 150
TARGET_P99_SECONDS = 2

LOAD_SETTINGS = {
    "zufi": {"RATE_LIMIT_PER_SECOND": "100000", "RATE_LIMIT_BURST": "100000"},
    "demo-receiver": {"PROCESS_DELIVERIES": "false", "AUTO_ANSWER": "false"},
}


def cpu_seconds(suite: Suite) -> dict[str, float]:
    """CPU of each service so far, its worker processes included."""
    table = processes()
    return {
        name: tree_cpu_seconds(process.process.pid, table)
        for name, process in suite.processes.items()
        if process.process is not None
    }


def infrastructure_cpu_seconds() -> dict[str, float]:
    """CPU so far of the Kafka broker and of every PostgreSQL process (the services' pools keep
    their backends for the whole run, so the difference over the run is theirs)."""
    table = processes()
    return {
        "kafka": matching_cpu_seconds(lambda command: "kafka.Kafka" in command, table),
        "postgresql": matching_cpu_seconds(is_postgres, table),
    }


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (Linux /proc/stat: user … steal, not idle/iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / TICKS


def own_cpu_seconds() -> float:
    """The load generator's CPU (this process)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def per_second(times: list[float], start: float) -> list[int]:
    if not times:
        return []
    bins = [0] * (int(max(times) - start) + 1)
    for t in times:
        bins[int(t - start)] += 1
    return bins


STEADY_MARGIN = 5
"""Seconds left out at either end of the run when throughput is called sustained: the first
seconds fill the pipeline, the last ones drain it."""


def steady(bins: list[int]) -> float:
    """Mean per-second count between the run's first and last `STEADY_MARGIN` seconds."""
    middle = bins[STEADY_MARGIN:-STEADY_MARGIN]
    return statistics.fmean(middle) if middle else float("nan")


def stats(values: list[float]) -> dict[str, float]:
    return {
        "count": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else float("nan"),
        "mean": statistics.fmean(values) if values else float("nan"),
    }


def plot(
    path: Path, points: list[tuple[float, float, str]], accepted: list[int], delivered: list[int]
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    for channel, colour in (("native", "tab:blue"), ("fit-connect", "tab:orange")):
        xs = [x for x, _, c in points if c == channel]
        ys = [y for _, y, c in points if c == channel]
        top.scatter(xs, ys, s=3, alpha=0.5, color=colour, label=channel)
    top.set_ylabel("accepted → received (s)")
    top.set_title("End-to-end latency per application")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    bottom.plot(range(len(accepted)), accepted, label="accepted/s (sender, 2xx)")
    bottom.plot(range(len(delivered)), delivered, label="received/s (demo receiver)")
    bottom.set_xlabel("seconds since the first application")
    bottom.set_ylabel("applications per second")
    bottom.set_title("Throughput")
    bottom.legend(loc="upper left")
    bottom.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


async def measure(suite: Suite, args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=60) as http:
        found = await targets(http, suite, args.areas)
        prepared_at = time.monotonic()
        channels = CHANNELS if args.channel == "both" else (args.channel,)
        warmup = prepare_all(args.warmup, found, offset=0, channels=channels)
        items = prepare_all(args.applications, found, offset=args.warmup, channels=channels)
        preparing = time.monotonic() - prepared_at
        print(
            f"{len(found)} Gemeinden, {len({t.destination_id for t in found})} destinations; "
            f"{len(items)} applications prepared in {preparing:.1f} s",
            flush=True,
        )
        if warmup:
            warm = Load(suite, rate=min(args.rate, 50), in_flight=args.in_flight)
            await warm.run(warmup)
            await wait_for_deliveries(
                http, suite, {o.submission_id for o in warm.accepted if o.submission_id}, within=120
            )
        baseline = set((await received(http, suite)).keys())
        # Timed while the suite is idle, before and after the load: the yardstick of this run.
        reference_before = reference_loop_cpu_ms()
        load = Load(suite, rate=args.rate, in_flight=args.in_flight)
        cpu_before = cpu_seconds(suite)
        busy_before, generator_before = machine_busy_seconds(), own_cpu_seconds()
        infrastructure_before = infrastructure_cpu_seconds()
        began_wall = time.time()
        sending = await load.run(items)
        accepted = {o.submission_id: o for o in load.accepted if o.submission_id}
        print(f"sent {len(items)} in {sending:.1f} s, {len(accepted)} answered 2xx", flush=True)
        seen = await wait_for_deliveries(
            http, suite, set(accepted), within=args.settle, baseline=len(baseline)
        )
        cpu_after = cpu_seconds(suite)
        busy = machine_busy_seconds() - busy_before
        generator = own_cpu_seconds() - generator_before
        infrastructure = {
            part: used - infrastructure_before[part] for part, used in infrastructure_cpu_seconds().items()
        }
        reference_after = reference_loop_cpu_ms()
    seen = {k: v for k, v in seen.items() if k not in baseline}
    latencies: dict[str, list[float]] = {"native": [], "fit-connect": []}
    points: list[tuple[float, float, str]] = []
    for sid, outcome in accepted.items():
        got = seen.get(sid)
        if got is None or outcome.accepted_at is None:
            continue
        latency = got.received_at - outcome.accepted_at
        latencies[outcome.channel].append(latency)
        points.append((outcome.accepted_at - began_wall, latency, outcome.channel))
    all_latencies = latencies["native"] + latencies["fit-connect"]
    accepted_times = [o.accepted_at for o in accepted.values() if o.accepted_at is not None]
    received_times = [seen[sid].received_at for sid in accepted if sid in seen]
    received_span = (max(received_times) - min(accepted_times)) if received_times else float("nan")
    accepted_bins = per_second(accepted_times, began_wall)
    received_bins = per_second(received_times, began_wall)
    plot(args.output_dir / "e2e_load.png", points, accepted_bins, received_bins)
    errors: dict[str, int] = {}
    for outcome in load.outcomes:
        if outcome.submission_id is None:
            errors[outcome.error or "no answer"] = errors.get(outcome.error or "no answer", 0) + 1
    cpu = {name: round(cpu_after.get(name, 0) - cpu_before.get(name, 0), 1) for name in cpu_after}
    cpu["load generator"] = round(generator, 1)
    cpu |= {part: round(used, 1) for part, used in infrastructure.items()}
    # What no process named here used: the kernel, interrupts, anything else on the machine.
    cpu["rest (OS, other)"] = round(busy - sum(cpu.values()), 1)
    delivered = len(received_times)
    elapsed = (max(received_times) if received_times else time.time()) - began_wall
    reference_ms = min(reference_before, reference_after)
    cpu_ms_total = sum(cpu.values()) / delivered * 1000 if delivered else float("nan")
    return {
        "benchmark": "e2e_load",
        "applications": args.applications,
        "target_rate": args.rate,
        "channel": args.channel,
        "partitions_per_topic": args.partitions or "each topic's own (12)",
        "areas": len(found),
        "destinations": len({t.destination_id for t in found}),
        "answered_2xx": len(accepted),
        "received": len(received_times),
        "lost": len(set(accepted) - seen.keys()),
        "errors": errors,
        "sending_seconds": round(sending, 2),
        "accepted_per_second": round(len(accepted) / sending, 1),
        "received_per_second_overall": round(len(received_times) / received_span, 1),
        "received_per_second_sustained": round(steady(received_bins), 1),
        "latency_seconds": {"all": stats(all_latencies), **{k: stats(v) for k, v in latencies.items()}},
        "cpu_seconds_during_run": cpu,
        "cpu_share_of_2_cores": {k: round(v / elapsed / 2, 3) for k, v in cpu.items()},
        "cpu_ms_per_application": {k: round(v / delivered * 1000, 1) for k, v in cpu.items()}
        if delivered
        else {},
        "cpu_ms_per_application_total": round(cpu_ms_total, 2),
        "reference_loop": {
            "what": "bench/_proc.py reference_loop_cpu_ms: a fixed pure-Python loop, least of 5 timings",
            "cpu_ms_before_load": reference_before,
            "cpu_ms_after_load": reference_after,
            "cpu_ms": reference_ms,
        },
        "cpu_per_application_in_reference_loops": round(cpu_ms_total / reference_ms, 3),
        "run_seconds": round(elapsed, 1),
        "suite_start_seconds": round(suite.started_in, 1),
        "receiver_mode": "store-only (process_deliveries=false)",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }


def judged(result: dict[str, Any]) -> dict[str, Any]:
    """The verdict: received rate sustained, p99 from answer to receiver, none lost."""
    return verdict(
        "e2e_load",
        [
            Target(
                "received sustained",
                result["received_per_second_sustained"],
                ">=",
                TARGET_RECEIVED_PER_SECOND,
                "/s",
            ),
            Target("latency p99", result["latency_seconds"]["all"]["p99"], "<", TARGET_P99_SECONDS, " s"),
            Target("applications received", result["received"], ">=", 1),
            Target("applications lost (answered 2xx, never received)", result["lost"], "<=", 0),
        ],
    )


def report(result: dict[str, Any]) -> str:
    lat = result["latency_seconds"]["all"]
    return (
        f"e2e_load: {result['answered_2xx']}/{result['applications']} answered 2xx at target "
        f"{result['target_rate']}/s; accepted {result['accepted_per_second']}/s, received "
        f"{result['received_per_second_sustained']}/s sustained ({result['received_per_second_overall']}/s "
        f"over the whole run); latency p50 {lat['p50']:.3f} s, "
        f"p95 {lat['p95']:.3f} s, p99 {lat['p99']:.3f} s; lost {result['lost']}\n"
        f"CPU seconds during the run: {result['cpu_seconds_during_run']}\n"
        f"CPU ms per application: {result['cpu_ms_per_application']}; in all "
        f"{result['cpu_ms_per_application_total']} ms = {result['cpu_per_application_in_reference_loops']} "
        f"reference loops of {result['reference_loop']['cpu_ms']} ms"
    )


async def main(args: argparse.Namespace) -> int:
    args.output_dir.mkdir(parents=True, exist_ok=True)
    suite = await postgres_suite(
        PROJECT_ROOT / "var" / "bench" / "e2e_load",
        database_prefix="bench_e2e",
        settings=with_partitions(LOAD_SETTINGS, args.partitions),
        lands=None if args.all_germany else ("01", "02", "03"),
    )
    try:
        await suite.start(within=300)
        waited = await suite.settled(within=900)
        print(f"suite up in {suite.started_in:.1f} s, read models complete {waited:.1f} s later", flush=True)
        result = await measure(suite, args)
    finally:
        await suite.close()
    print(report(result))
    result["verdict"] = judged(result)
    (args.output_dir / "e2e_load.json").write_text(json.dumps(result, indent=2))
    print(f"results: {args.output_dir / 'e2e_load.json'}, plot: {args.output_dir / 'e2e_load.png'}")
    return exit_code(result["verdict"])


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument(
        "--rate",
        type=float,
        default=170.0,
        help="applications offered per second; above the 150/s target, so that the run measures what "
        "the suite sustains (offered exactly 150/s, the received rate can at best equal it, and the "
        "sender's own jitter decides the verdict)",
    )
    parser.add_argument("--in-flight", type=int, default=128, help="most requests open at once")
    parser.add_argument(
        "--channel",
        choices=["both", *CHANNELS],
        default="both",
        help="native intake, FIT-Connect or both in turn",
    )
    parser.add_argument("--areas", type=int, default=60, help="Gemeinden the applications go to")
    parser.add_argument("--warmup", type=int, default=100, help="applications sent before measuring")
    parser.add_argument("--settle", type=float, default=300, help="seconds to wait for the last delivery")
    parser.add_argument(
        "--partitions",
        type=int,
        help="partitions per topic (default: each topic's own, 12); the services' TOPIC_PARTITIONS",
    )
    parser.add_argument("--all-germany", action="store_true", help="seed all ~12k destinations (slow start)")
    parser.add_argument("--output-dir", type=Path, default=RESULTS, help="where the JSON and the plot go")
    return parser.parse_args(argv)


if __name__ == "__main__":
    # uvloop, as the services run: the load generator shares the cores with what it measures.
    sys.exit(uvloop.run(main(parse())))
