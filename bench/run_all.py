"""`make bench`: every benchmark in turn, with sizes that fit ~10 minutes on a 2-core machine.

Each benchmark is its own script and process and writes bench/results/<name>.json; this runner
passes reduced sizes (the scripts' own defaults are the full runs), bounds each one in time,
and prints a summary table from the JSON files. Every script exits non-zero when it missed a target
or measured nothing; this runner exits 1 if any benchmark did (or failed, or ran out of time).
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"

# name, arguments for the bounded run, time limit in seconds
BENCHMARKS: list[tuple[str, list[str], float]] = [
    ("zufi_routes", ["--seconds", "5", "--rounds", "2"], 90),
    ("submission_intake", ["--seconds", "10", "--rounds", "1", "--workers", "2"], 90),
    ("kop_delivery", ["--deliveries", "1500"], 120),
    ("e2e_load", ["--applications", "2000", "--rate", "170", "--warmup", "50", "--settle", "90"], 200),
    # Brings up its own three-broker cluster and PostgreSQL; two of its faults last 30 s, one 20 s.
    ("chaos", ["--applications", "600", "--rate", "10", "--fault-gap", "5", "--settle", "120"], 900),
]


def headline(name: str, result: dict[str, Any]) -> str:
    """The one line a reader wants from each benchmark's JSON."""
    missed = [t["name"] for t in result.get("verdict", {}).get("targets", []) if not t["met"]]
    prefix = f"MISSED {', '.join(missed)}; " if missed else ""
    return prefix + figures(name, result)


def figures(name: str, result: dict[str, Any]) -> str:
    """The figures of one benchmark's JSON."""
    if name == "e2e_load":
        lat = result["latency_seconds"]["all"]
        return (
            f"{result['received_per_second_sustained']}/s received (target 150), "
            f"p50 {lat['p50']:.2f} s, p99 {lat['p99']:.2f} s (target < 2 s), lost {result['lost']}; "
            f"CPU per application {result['cpu_per_application_in_reference_loops']} reference loops"
        )
    if name == "kop_delivery":
        summary = result["summary"]
        return (
            f"gateway {result['gateway']['per_second']}/s = {summary['gateway_vs_raw']} of raw aiohttp "
            f"(target 0.6); healthy with one down {summary['healthy_throughput_with_one_down_vs_all_up']} "
            "of all up (target 0.8)"
        )
    if name == "chaos":
        return (
            f"{result['answered_2xx']} answered 2xx, {result['delivered_exactly_once']} delivered once, "
            f"lost {len(result['lost'])}, duplicated {len(result['duplicated'])}"
        )
    flat = {k: v for k, v in result.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    wanted = [k for k in flat if any(word in k for word in ("per_second", "ratio", "p99"))] or list(flat)
    return ", ".join(f"{k} {flat[k]}" for k in wanted[:4]) or "see JSON"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", nargs="*", help="run only these benchmarks")
    parser.add_argument("--full", action="store_true", help="the scripts' own (large) defaults")
    args = parser.parse_args()
    rows: list[tuple[str, str, float, str]] = []
    for name, reduced, limit in BENCHMARKS:
        if args.only and name not in args.only:
            continue
        script = BENCH / f"{name}.py"
        if not script.exists():
            rows.append((name, "missing", 0.0, str(script)))
            continue
        command = [sys.executable, str(script), *([] if args.full else reduced)]
        print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
        began = time.monotonic()
        try:
            code = subprocess.run(command, timeout=None if args.full else limit, check=False).returncode
            status = "ok" if code == 0 else f"exit {code} (target missed or failed)"
        except subprocess.TimeoutExpired:
            status = f"timeout {limit:.0f} s"
        took = time.monotonic() - began
        result_file = RESULTS / f"{name}.json"
        fresh = result_file.exists() and result_file.stat().st_mtime >= time.time() - took - 1
        summary = headline(name, json.loads(result_file.read_text())) if fresh else "no fresh result"
        rows.append((name, status, took, summary))
    print("\n| benchmark | status | seconds | result |\n|---|---|---|---|")
    for name, status, took, summary in rows:
        print(f"| {name} | {status} | {took:.0f} | {summary} |")
    return 0 if all(status == "ok" for _, status, _, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
