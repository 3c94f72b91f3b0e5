"""Crash benchmark: application load on a three-broker Kafka cluster while services, brokers, the
database and the receiver fail in turn; nothing answered 2xx may be lost or take effect twice.

Starts its own three-broker cluster (deploy/local/kafka.sh, KAFKA_BROKERS=3, ports from
`--kafka-port-base`) and its own PostgreSQL (deploy/local/postgres.sh on `--postgres-port`), both
with data under var/bench/, unless they already run there, and the suite as processes on them.
It sends `--applications` at `--rate` (half native intake, half FIT-Connect) and meanwhile, one
after the other, `--fault-gap` seconds apart:
  - SIGKILLs each service and starts it again;
  - SIGKILLs one broker (the leader of a partition of the submission topic), restarts it after 30 s;
  - SIGKILLs two brokers together, restarts them after 20 s (no in-sync quorum: Kafka writes fail);
  - restarts PostgreSQL with `pg_ctl restart -m immediate` (only the one this run started or uses
    under var/bench/, never another);
  - makes the demo receiver hang for 30 s (SIGSTOP: the kernel accepts connections, nobody answers).
At the end every application answered 2xx must have reached the demo receiver exactly once (by
submission id, after the receiver's dedupe by delivery id), and the intake and the deliveries must
be back within 60 s of each fault's end. Results: bench/results/chaos.json and a timeline PNG;
the exit code is 1 when a target is missed or nothing was measured.
"""

import argparse
import asyncio
import bisect
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workload import (
    Load,
    Outcome,
    Received,
    prepare_all,
    received,
    targets,
    wait_for_deliveries,
    with_partitions,
)

from ozg_common.settings import PROJECT_ROOT
from ozg_testing import KafkaCluster
from ozg_testing.suite_harness import Suite, postgres_suite

RESULTS = PROJECT_ROOT / "bench" / "results" / "chaos.json"
TIMELINE = PROJECT_ROOT / "bench" / "results" / "chaos.png"
STATE = PROJECT_ROOT / "var" / "bench"
POSTGRES = PROJECT_ROOT / "deploy" / "local" / "postgres.sh"
SERVICES = ["submission", "kop-gateway", "zufi", "payment", "mailbox"]
RECOVERY_TARGET = 60.0
"""Seconds after a fault ends within which intake and deliveries must be back."""
BROKER_DOWN = 30.0
BROKERS_DOWN = 20.0
RECEIVER_HANG = 30.0
RESTART_WITHIN = 600.0
"""Seconds a restarted service gets to answer /healthz before the next fault goes ahead."""

# Short leases and retries, so a killed worker's deliveries are taken over within seconds.
CHAOS_SETTINGS = {
    "zufi": {"RATE_LIMIT_PER_SECOND": "10000", "RATE_LIMIT_BURST": "10000"},
    "kop-gateway": {
        "RETRY_SCHEDULE": "[1, 1, 2, 2, 3, 5, 5, 10, 10, 10]",
        "RETRY_INTERVAL": "3",
        "BREAKER_COOLDOWN": "2",
        "REQUEST_TIMEOUT": "5",
        "CLAIM_LEASE": "8",
        "POLL_INTERVAL": "0.2",
    },
    # As in e2e_load, whose sustained rate this run offers: the receiver verifies, dedupes and stores
    # every delivery (what "delivered exactly once" counts) but does not decrypt or answer.
    "demo-receiver": {"RETRY_AFTER_SECONDS": "1", "PROCESS_DELIVERIES": "false", "AUTO_ANSWER": "false"},
}


@dataclass
class Fault:
    """One injected fault: when it began, when its cause was gone, and when the suite was back."""

    name: str
    injected_at: float
    cleared_at: float = 0.0
    intake_back_at: float | None = None
    """First moment after the fault's end from which 2xx answers kept up with the offered rate."""
    backlog_delivered_at: float | None = None
    """When the last application answered 2xx before the fault's end reached the receiver."""
    note: str = ""
    operator_view: dict[str, Any] = field(default_factory=dict)
    """What /readyz, the metrics and the logs said from the fault's start until it was recovered."""

    @property
    def recovery_seconds(self) -> float | None:
        """From the fault's end until intake and deliveries were both back; None: never."""
        if self.intake_back_at is None or self.backlog_delivered_at is None:
            return None
        return max(self.intake_back_at, self.backlog_delivered_at, self.cleared_at) - self.cleared_at


@dataclass
class ChaosReport:
    """What was offered, what was answered and delivered, and how each fault went."""

    applications: int
    rate: float
    answered_2xx: int = 0
    answered_non_2xx: int = 0
    delivered_exactly_once: int = 0
    lost: list[str] = field(default_factory=list)
    """Answered 2xx, never delivered."""
    duplicated: list[str] = field(default_factory=list)
    """Delivered more than once after the receiver's dedupe."""
    delivered_without_2xx: int = 0
    """Stored and delivered although the sender saw an error (e.g. killed before answering): not lost."""
    repeated_deliveries: int = 0
    """POSTs of an already stored delivery id, absorbed by the receiver's dedupe."""
    errors: dict[str, int] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    seconds: float = 0.0

    def missed(self) -> list[str]:
        """Every target this run missed; empty when all were met."""
        missed = []
        if self.answered_2xx == 0 or self.delivered_exactly_once == 0:
            missed.append("nothing measured: no application answered 2xx and delivered")
        if self.lost:
            missed.append(f"{len(self.lost)} lost")
        if self.duplicated:
            missed.append(f"{len(self.duplicated)} duplicated")
        for fault in self.faults:
            recovery = fault.recovery_seconds
            if recovery is None or recovery > RECOVERY_TARGET:
                took = "never" if recovery is None else f"after {recovery:.0f} s"
                missed.append(f"{fault.name}: recovered {took} (target {RECOVERY_TARGET:.0f} s)")
        return missed

    def summary(self) -> str:
        lines = [
            f"offered {self.applications} at {self.rate:g}/s, answered 2xx {self.answered_2xx}, "
            f"non-2xx {self.answered_non_2xx}, delivered exactly once {self.delivered_exactly_once}, "
            f"lost {len(self.lost)}, duplicated {len(self.duplicated)}, "
            f"delivered without 2xx {self.delivered_without_2xx}, "
            f"repeated POSTs deduped {self.repeated_deliveries}"
        ]
        for fault in self.faults:
            recovery = fault.recovery_seconds
            lines.append(
                f"  {fault.name}: lasted {fault.cleared_at - fault.injected_at:.1f} s, back "
                + ("never" if recovery is None else f"{recovery:.1f} s after its end")
                + (f" ({fault.note})" if fault.note else "")
            )
            for name, seen in fault.operator_view.items():
                said = next(iter(seen["readyz_not_ready"]), None)
                if said or seen["peak_outbox_backlog"] or seen["peak_consumer_lag"]:
                    lines.append(
                        f"    {name}: /readyz {said or 'ready'}; peak outbox backlog "
                        f"{seen['peak_outbox_backlog']}, consumer lag {seen['peak_consumer_lag']}"
                    )
        return "\n".join(lines)


@dataclass
class Sample:
    """One look at a service as an operator's probes see it."""

    at: float
    ready: str
    """"ready", the /readyz problem's detail, or why it did not answer."""
    outbox_backlog: float | None
    consumer_lag: float | None


def metric_sum(exposition: str, name: str) -> float | None:
    """The sum of a gauge's samples (all label sets) in a Prometheus text exposition."""
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith(name) and line[len(name) : len(name) + 1] in ("{", " ")
    ]
    return sum(values) if values else None


class OperatorView:
    """Polls every service's /readyz and /metrics once a second, as an operator's probes would, so the
    report can show what they said during each fault."""

    def __init__(self, suite: Suite) -> None:
        self.suite = suite
        self.samples: dict[str, list[Sample]] = {name: [] for name in SERVICES}

    async def watch(self) -> None:
        async with httpx.AsyncClient(timeout=2.5) as http:
            while True:
                await asyncio.gather(*(self._look(http, name) for name in SERVICES))
                await asyncio.sleep(1.0)

    async def _look(self, http: httpx.AsyncClient, name: str) -> None:
        at, base = time.time(), self.suite.url(name)
        backlog = lag = None
        try:
            answer = await http.get(f"{base}/readyz")
            ready = "ready" if answer.status_code == 200 else str(answer.json().get("detail"))
            exposition = (await http.get(f"{base}/metrics")).text
            backlog = metric_sum(exposition, "outbox_backlog")
            lag = metric_sum(exposition, "consumer_lag")
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            ready = f"no answer ({type(exc).__name__})"
        self.samples[name].append(Sample(at, ready, backlog, lag))

    def during(self, start: float, end: float, logs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        """Per service: each distinct readiness line, the peak backlog and lag, and the distinct
        warning/error log messages between `start` and `end`."""
        view: dict[str, Any] = {}
        for name, samples in self.samples.items():
            window = [s for s in samples if start <= s.at <= end]
            lines = Counter(s.ready for s in window if s.ready != "ready")
            messages = Counter(
                f"{line.get('level')}: {line.get('message')}"
                for line in logs.get(name, [])
                if start <= line["at"] <= end and line.get("level") in ("WARNING", "ERROR", "CRITICAL")
            )
            view[name] = {
                "readyz_not_ready": dict(lines.most_common(5)),
                "peak_outbox_backlog": max((s.outbox_backlog or 0 for s in window), default=None),
                "peak_consumer_lag": max((s.consumer_lag or 0 for s in window), default=None),
                "log_warnings": dict(messages.most_common(5)),
            }
        return view


def timed_log_lines(suite: Suite) -> dict[str, list[dict[str, Any]]]:
    """Every service's JSON log lines, each with its time as a Unix timestamp under "at"."""
    parsed: dict[str, list[dict[str, Any]]] = {}
    for name, text in suite.logs().items():
        lines = []
        for raw in text.splitlines():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                line = json.loads(raw)
                line["at"] = datetime.fromisoformat(line["time"]).timestamp()
                lines.append(line)
        parsed[name] = lines
    return parsed


class Infrastructure:
    """The run's own Kafka cluster and PostgreSQL: started when not running, stopped if started here."""

    def __init__(self, kafka_port_base: int, postgres_port: int) -> None:
        self.cluster = KafkaCluster(port_base=kafka_port_base, state_dir=STATE / "chaos-kafka")
        self.postgres_env = {
            **os.environ,
            "POSTGRES_PORT": str(postgres_port),
            "POSTGRES_STATE_DIR": str(STATE / "chaos-postgres"),
        }
        self.postgres_url = f"postgresql+asyncpg://ozg:ozg@127.0.0.1:{postgres_port}"
        self.started: list[str] = []

    def postgres(self, command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(POSTGRES), command], env=self.postgres_env, check=check, text=True, capture_output=True
        )

    def up(self) -> None:
        if (
            self.postgres("status", check=False).returncode != 0
            or "not ours" in self.postgres("status").stdout
        ):
            self.postgres("up")
            self.started.append("postgres")
        if not self.cluster.running():
            self.cluster.script("up")
            self.started.append("kafka")
        # The suite harness and the services read where their infrastructure is from these.
        os.environ["OZG_TEST_POSTGRES_URL"] = self.postgres_url
        os.environ["OZG_TEST_KAFKA"] = self.cluster.bootstrap

    def down(self) -> None:
        if "kafka" in self.started:
            self.cluster.script("down", check=False)
        if "postgres" in self.started:
            self.postgres("down", check=False)

    async def crash_restart_postgres(self) -> None:
        await asyncio.to_thread(self.postgres, "crash-restart")


async def inject(
    report: ChaosReport, name: str, cause: Callable[[], Awaitable[str]], clear: Callable[[], Awaitable[None]]
) -> None:
    fault = Fault(name, injected_at=time.time())
    report.faults.append(fault)
    print(f"  {time.strftime('%H:%M:%S')} fault: {name}", flush=True)
    fault.note = await cause()
    await clear()
    fault.cleared_at = time.time()
    print(
        f"  {time.strftime('%H:%M:%S')} cleared: {name} after {fault.cleared_at - fault.injected_at:.1f} s",
        flush=True,
    )


async def partition_leader(infra: Infrastructure, suite: Suite) -> int:
    """The broker leading partition 0 of the topic submissions are published on."""
    return await infra.cluster.leader(f"{suite.topic_prefix}submission.events", 0)


FAULT_KINDS = ("services", "broker", "brokers", "postgres", "receiver")


async def faults(
    suite: Suite, infra: Infrastructure, report: ChaosReport, gap: float, kinds: tuple[str, ...] = FAULT_KINDS
) -> None:
    """The faults of `kinds` in turn, `gap` seconds apart."""

    async def nothing() -> None:
        return None

    for name in SERVICES if "services" in kinds else []:
        await asyncio.sleep(gap)

        async def kill(name: str = name) -> str:
            suite.processes[name].kill()
            return ""

        async def restart(name: str = name) -> None:
            # A restart that is slow to answer is a finding for the report, not the end of the run.
            process = suite.processes[name]
            await process.start(wait_ready=False)
            with contextlib.suppress(TimeoutError):
                await process.wait_ready(RESTART_WITHIN)

        await inject(report, f"SIGKILL {name}", kill, restart)

    if "broker" in kinds:
        await asyncio.sleep(gap)
        await one_broker(suite, infra, report)
    if "brokers" in kinds:
        await asyncio.sleep(gap)
        await two_brokers(suite, infra, report)
    if "postgres" in kinds:
        await asyncio.sleep(gap)

        async def crash_postgres() -> str:
            await infra.crash_restart_postgres()
            return "pg_ctl restart -m immediate"

        await inject(report, "PostgreSQL immediate restart", crash_postgres, nothing)
    if "receiver" in kinds:
        await asyncio.sleep(gap)
        await receiver_hangs(suite, report)


async def one_broker(suite: Suite, infra: Infrastructure, report: ChaosReport) -> None:
    victims: list[int] = []

    async def kill_leader() -> str:
        victims[:] = [await partition_leader(infra, suite)]
        await infra.cluster.kill(*victims)
        await asyncio.sleep(BROKER_DOWN)
        return f"broker {victims[0]}"

    await inject(report, "SIGKILL one broker for 30 s", kill_leader, lambda: infra.cluster.start(*victims))


async def two_brokers(suite: Suite, infra: Infrastructure, report: ChaosReport) -> None:
    pair: list[int] = []

    async def kill_two() -> str:
        leader = await partition_leader(infra, suite)
        pair[:] = [leader, leader % infra.cluster.brokers + 1]
        await infra.cluster.kill(*pair)
        await asyncio.sleep(BROKERS_DOWN)
        return f"brokers {pair[0]} and {pair[1]}"

    await inject(report, "SIGKILL two brokers for 20 s", kill_two, lambda: infra.cluster.start(*pair))


async def receiver_hangs(suite: Suite, report: ChaosReport) -> None:
    receiver = suite.processes["demo-receiver"].process
    assert receiver is not None

    async def hang() -> str:
        os.kill(receiver.pid, signal.SIGSTOP)
        await asyncio.sleep(RECEIVER_HANG)
        return "SIGSTOP: connections accepted, never answered"

    async def wake() -> None:
        os.kill(receiver.pid, signal.SIGCONT)

    await inject(report, "demo receiver hangs for 30 s", hang, wake)


def per_second(stamps: list[float], start: float, seconds: int) -> list[int]:
    counts = [0] * seconds
    for stamp in stamps:
        second = int(stamp - start)
        if 0 <= second < seconds:
            counts[second] += 1
    return counts


def judge_recovery(
    report: ChaosReport,
    outcomes: list[Outcome],
    seen: dict[str, Received],
    load_ended: float,
) -> None:
    """When intake and deliveries were back after each fault."""
    answered = sorted(o.accepted_at for o in outcomes if o.accepted_at is not None)
    offered = sorted(o.scheduled for o in outcomes)
    window = 3.0

    def within(stamps: list[float], start: float) -> int:
        return bisect.bisect_left(stamps, start + window) - bisect.bisect_left(stamps, start)

    for fault in report.faults:
        # Intake: from some moment after the end, 3 s in which 80 % of what was offered got 2xx.
        t = fault.cleared_at
        while t + window <= load_ended:
            sent = within(offered, t)
            ok = within(answered, t)
            if sent and ok >= 0.8 * sent:
                fault.intake_back_at = t
                break
            t += 0.5
        if fault.intake_back_at is None and fault.cleared_at + window > load_ended:
            fault.intake_back_at = fault.cleared_at  # the load ended before the fault did
        before = [
            o.submission_id
            for o in outcomes
            if o.accepted_at is not None and o.accepted_at <= fault.cleared_at and o.submission_id
        ]
        arrivals = [seen[sid].received_at for sid in before if sid in seen]
        if len(arrivals) == len(before):
            fault.backlog_delivered_at = max(arrivals, default=fault.cleared_at)


def draw_timeline(
    report: ChaosReport, outcomes: list[Outcome], seen: dict[str, Received], path: Path
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start = min(o.scheduled for o in outcomes)
    end = max([*(r.received_at for r in seen.values()), *(f.cleared_at for f in report.faults), start + 1])
    seconds = math.ceil(end - start) + 1
    xs = list(range(seconds))
    figure, axes = plt.subplots(figsize=(14, 5))
    axes.plot(xs, per_second([o.scheduled for o in outcomes], start, seconds), label="offered/s", lw=0.8)
    axes.plot(
        xs,
        per_second([o.accepted_at for o in outcomes if o.accepted_at], start, seconds),
        label="answered 2xx/s",
    )
    axes.plot(xs, per_second([r.received_at for r in seen.values()], start, seconds), label="delivered/s")
    axes.plot(
        xs,
        per_second([o.scheduled for o in outcomes if o.submission_id is None], start, seconds),
        label="non-2xx/s",
        color="red",
    )
    for n, fault in enumerate(report.faults):
        axes.axvspan(
            fault.injected_at - start,
            max(fault.cleared_at, fault.injected_at + 1) - start,
            alpha=0.2,
            color=f"C{n % 10}",
        )
        axes.annotate(fault.name, (fault.injected_at - start, 1), rotation=90, fontsize=7, va="bottom")
    axes.set_xlabel("seconds since the load began")
    axes.set_ylabel("applications per second")
    axes.set_title(f"chaos: {report.applications} applications at {report.rate:g}/s on three brokers")
    axes.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


async def chaos(
    suite: Suite,
    infra: Infrastructure,
    *,
    applications: int,
    rate: float,
    gap: float | None,
    settle: float,
    kinds: tuple[str, ...] = FAULT_KINDS,
) -> tuple[ChaosReport, list[Outcome], dict[str, Received]]:
    """Load with faults; then count, by submission id, what the receiver got."""
    report = ChaosReport(applications, rate)
    began = time.monotonic()
    async with httpx.AsyncClient(timeout=60) as http:
        found = await targets(http, suite, 40)
        await suite.grant_receiver(http, [t.destination_id for t in found])
        before = await received(http, suite)
        items = prepare_all(applications, found, offset=len(before))
        load = Load(suite, rate, in_flight=64)
        fault_time = len(SERVICES) * 5 + BROKER_DOWN + BROKERS_DOWN + RECEIVER_HANG + 30
        fault_count = len(SERVICES) + 4
        pause = gap if gap is not None else max((applications / rate - fault_time) / (fault_count + 1), 5.0)
        view = OperatorView(suite)
        watcher = asyncio.create_task(view.watch())
        injector = asyncio.create_task(faults(suite, infra, report, pause, kinds))
        await load.run(items)
        load_ended = time.time()
        await injector
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
    report.answered_non_2xx = applications - len(accepted)
    report.lost = sorted(accepted - new.keys())
    report.duplicated = sorted(sid for sid, r in new.items() if r.deliveries > 1)
    report.delivered_exactly_once = len({sid for sid, r in new.items() if r.deliveries == 1} & accepted)
    report.delivered_without_2xx = len(new.keys() - accepted)
    report.repeated_deliveries = int(totals["totals"]["repeatedDeliveries"])
    judge_recovery(report, load.outcomes, new, load_ended)
    watcher.cancel()
    logs = timed_log_lines(suite)
    for fault in report.faults:
        recovery = fault.recovery_seconds
        end = fault.cleared_at + (RECOVERY_TARGET if recovery is None else recovery)
        fault.operator_view = view.during(fault.injected_at, end, logs)
    report.seconds = time.monotonic() - began
    return report, load.outcomes, new


async def main(args: argparse.Namespace) -> int:
    infra = Infrastructure(args.kafka_port_base, args.postgres_port)
    await asyncio.to_thread(infra.up)
    suite = await postgres_suite(
        STATE / "chaos",
        database_prefix="bench_chaos",
        settings=with_partitions(CHAOS_SETTINGS, args.partitions),
    )
    try:
        await suite.start(within=600)
        waited = await suite.settled(within=900)
        print(f"suite up in {suite.started_in:.1f} s, read models complete {waited:.1f} s later", flush=True)
        report, outcomes, seen = await chaos(
            suite,
            infra,
            applications=args.applications,
            rate=args.rate,
            gap=args.fault_gap,
            settle=args.settle,
            kinds=tuple(args.faults),
        )
    finally:
        receiver = suite.processes["demo-receiver"].process
        if receiver is not None and receiver.poll() is None:
            os.kill(receiver.pid, signal.SIGCONT)
        await suite.close()
        if not args.keep_infrastructure:
            await asyncio.to_thread(infra.down)
    print(report.summary())
    if report.lost:
        print(f"LOST: {report.lost[:20]}")
    if report.duplicated:
        print(f"DUPLICATED: {report.duplicated[:20]}")
    missed = report.missed()
    statuses = Counter(o.status for o in outcomes)
    result: dict[str, Any] = {
        **asdict(report),
        "faults": [{**asdict(f), "recovery_seconds": f.recovery_seconds} for f in report.faults],
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "recovery_target_seconds": RECOVERY_TARGET,
        "missed": missed,
        "ok": not missed,
        "kafka": infra.cluster.bootstrap,
        "partitions_per_topic": args.partitions or "each topic's own (12)",
        "logs": str(suite.run_dir / "log"),
        "timeline": str(TIMELINE.relative_to(PROJECT_ROOT)),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    if outcomes:
        draw_timeline(report, outcomes, seen, TIMELINE)
    print(f"results: {RESULTS}, timeline: {TIMELINE}")
    print("verdict: " + ("met" if not missed else "MISSED: " + "; ".join(missed)))
    return 0 if not missed else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--applications", type=int, default=10000)
    parser.add_argument("--rate", type=float, default=50.0, help="applications offered per second")
    parser.add_argument(
        "--fault-gap", type=float, help="seconds between faults (default: spread over the run)"
    )
    parser.add_argument(
        "--faults",
        nargs="+",
        choices=FAULT_KINDS,
        default=list(FAULT_KINDS),
        help="which faults (default: all)",
    )
    parser.add_argument("--settle", type=float, default=600, help="seconds to wait for the last deliveries")
    parser.add_argument(
        "--kafka-port-base", type=int, default=29092, help="the run's brokers on base..base+2"
    )
    parser.add_argument("--postgres-port", type=int, default=25432)
    parser.add_argument(
        "--partitions",
        type=int,
        help="partitions per topic (default: each topic's own, 12); the services' TOPIC_PARTITIONS",
    )
    parser.add_argument(
        "--keep-infrastructure", action="store_true", help="leave the run's Kafka and PostgreSQL running"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
