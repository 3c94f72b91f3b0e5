"""Crash benchmark: application load while each service is SIGKILLed in turn, and Kafka restarts once.

Starts the suite as processes on PostgreSQL (or takes a running one from tests/e2e), sends
`--applications` at `--rate` (half native intake, half FIT-Connect), and meanwhile kills
(SIGKILL) and restarts submission, kop-gateway, zufi, payment, mailbox and the demo receiver one
after the other, and restarts the Kafka broker once (`deploy/local/kafka.sh restart`; off with
`--no-kafka-restart`). At the end every application answered 2xx must have reached the demo
receiver exactly once (by submission id, after the receiver's dedupe by delivery id): lost or
duplicated ones make the exit code 1. Results: bench/results/chaos.json.
"""

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workload import Load, prepare_all, received, targets, wait_for_deliveries

from ozg_common.settings import PROJECT_ROOT
from ozg_testing.suite_harness import Suite, postgres_suite

RESULTS = PROJECT_ROOT / "bench" / "results" / "chaos.json"
KAFKA = PROJECT_ROOT / "deploy" / "local" / "kafka.sh"
VICTIMS = ["submission", "kop-gateway", "zufi", "payment", "mailbox", "demo-receiver"]

# Short leases and retries, so a killed worker's deliveries are taken over within seconds.
CHAOS_SETTINGS = {
    "zufi": {"RATE_LIMIT_PER_SECOND": "10000", "RATE_LIMIT_BURST": "10000"},
    "kop-gateway": {
        "RETRY_SCHEDULE": "[1, 1, 2, 2, 3]",
        "RETRY_INTERVAL": "3",
        "BREAKER_COOLDOWN": "2",
        "REQUEST_TIMEOUT": "5",
        "CLAIM_LEASE": "8",
        "POLL_INTERVAL": "0.2",
    },
    "demo-receiver": {"RETRY_AFTER_SECONDS": "1"},
}


@dataclass
class ChaosReport:
    """What was sent, what arrived, and what happened meanwhile."""

    applications: int
    rate: float
    answered_2xx: int = 0
    not_answered_2xx: int = 0
    delivered: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    delivered_without_2xx: int = 0
    """Stored and delivered although the sender saw an error (e.g. killed before answering): not lost."""
    repeated_deliveries: int = 0
    """POSTs of an already stored delivery id, absorbed by the receiver's dedupe."""
    errors: dict[str, int] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.lost and not self.duplicated

    def summary(self) -> str:
        return (
            f"sent {self.applications}, answered 2xx {self.answered_2xx}, delivered {self.delivered}, "
            f"lost {len(self.lost)}, duplicated {len(self.duplicated)}, "
            f"delivered without 2xx {self.delivered_without_2xx}, "
            f"repeated POSTs deduped {self.repeated_deliveries}"
        )


async def kafka(command: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        str(KAFKA), command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def restart_kafka(report: ChaosReport) -> None:
    began = time.monotonic()
    code, output = await kafka("restart")
    if code != 0:
        # The broker is shared: someone else's `kafka.sh up` may have won the race to start it.
        code, more = await kafka("up")
        output += more
    report.events.append(f"kafka restart rc={code} in {time.monotonic() - began:.1f} s")
    if code != 0:
        raise RuntimeError(f"kafka did not come back: {output[-1000:]}")


async def kill_in_turn(suite: Suite, report: ChaosReport, gap: float, kafka_restart: bool) -> None:
    """SIGKILL and restart each victim, `gap` seconds apart; Kafka in the middle."""
    steps: list[str] = list(VICTIMS)
    if kafka_restart:
        steps.insert(len(steps) // 2, "kafka")
    for step in steps:
        await asyncio.sleep(gap)
        began = time.monotonic()
        if step == "kafka":
            await restart_kafka(report)
        else:
            await suite.restart(step, kill=True, within=180)
            report.events.append(f"SIGKILL {step}, back in {time.monotonic() - began:.1f} s")
        print(f"  {report.events[-1]}", flush=True)


async def chaos(
    suite: Suite,
    *,
    applications: int,
    rate: float,
    kafka_restart: bool,
    areas: int = 40,
    settle: float = 240,
) -> ChaosReport:
    """Load with kills; then count, by submission id, what the receiver got."""
    report = ChaosReport(applications, rate)
    began = time.monotonic()
    async with httpx.AsyncClient(timeout=60) as http:
        found = await targets(http, suite, areas)
        await suite.grant_receiver(http, [t.destination_id for t in found])
        before = await received(http, suite)
        items = prepare_all(applications, found, offset=len(before))
        load = Load(suite, rate, in_flight=64)
        gap = max(applications / rate / (len(VICTIMS) + 2), 1.0)
        killer = asyncio.create_task(kill_in_turn(suite, report, gap, kafka_restart))
        await load.run(items)
        await killer
        accepted = {o.submission_id for o in load.accepted if o.submission_id}
        for outcome in load.outcomes:
            if outcome.submission_id is None:
                key = outcome.error or "no answer"
                report.errors[key] = report.errors.get(key, 0) + 1
        seen = await wait_for_deliveries(http, suite, accepted, within=settle, baseline=len(before))
        new = {sid: r for sid, r in seen.items() if sid not in before}
        totals = (
            await http.get(f"{suite.url('demo-receiver')}/api/applications", params={"limit": 1})
        ).json()
    report.answered_2xx = len(accepted)
    report.not_answered_2xx = applications - len(accepted)
    report.delivered = len(new.keys() & accepted)
    report.lost = sorted(accepted - new.keys())
    report.duplicated = sorted(sid for sid, r in new.items() if r.deliveries > 1)
    report.delivered_without_2xx = len(new.keys() - accepted)
    report.repeated_deliveries = int(totals["totals"]["repeatedDeliveries"])
    report.seconds = time.monotonic() - began
    return report


async def main(args: argparse.Namespace) -> int:
    suite = await postgres_suite(
        PROJECT_ROOT / "var" / "bench" / "chaos", database_prefix="bench_chaos", settings=CHAOS_SETTINGS
    )
    try:
        await suite.start(within=300)
        waited = await suite.settled(within=600)
        print(f"suite up in {suite.started_in:.1f} s, read models complete {waited:.1f} s later", flush=True)
        report = await chaos(
            suite, applications=args.applications, rate=args.rate, kafka_restart=args.kafka_restart
        )
    finally:
        suite.stop()
    print(report.summary())
    if report.lost:
        print(f"LOST: {report.lost[:20]}")
    if report.duplicated:
        print(f"DUPLICATED: {report.duplicated[:20]}")
    result: dict[str, Any] = {**asdict(report), "ok": report.ok, "logs": str(suite.run_dir / "log")}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(f"results: {RESULTS}")
    return 0 if report.ok else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--applications", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0, help="applications per second")
    parser.add_argument(
        "--kafka-restart",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="restart the Kafka broker once (affects everyone using this broker)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
