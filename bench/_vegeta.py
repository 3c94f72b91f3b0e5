"""vegeta, the load generator the benchmarks prefer: a Go binary built once by `bench/tools.sh`, far
cheaper per request than an httpx loop sharing the machine's two cores with the servers under test.
`attack` sends the requests (closed loop with rate 0, else paced open loop), `report` computes the
latency percentiles from every result."""

import argparse
import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parent / "tools.sh"

Summary = dict[str, float | int]


def add_generator_argument(parser: argparse.ArgumentParser) -> None:
    """The `--generator` choice every benchmark with HTTP load offers."""
    parser.add_argument(
        "--generator",
        choices=["auto", "vegeta", "python"],
        default="auto",
        help="auto: vegeta if bench/tools.sh can provide it, else the Python generator",
    )


async def find_vegeta(choice: str) -> tuple[str | None, str]:
    """The vegeta binary, or None and why not (`choice` "python": not wanted; "vegeta": required)."""
    if choice == "python":
        return None, "chosen with --generator python"
    tools = await asyncio.create_subprocess_exec(
        str(TOOLS), "vegeta", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(600):
            out, err = await tools.communicate()
    except TimeoutError:
        tools.kill()
        out, err = b"", b"building vegeta took over 10 minutes"
    binary = out.decode().strip()
    if tools.returncode == 0 and binary and shutil.which(binary):
        return binary, ""
    why = (err.decode().strip().splitlines()[-1:] or ["bench/tools.sh vegeta failed"])[0]
    if choice == "vegeta":
        raise RuntimeError(f"vegeta is not available: {why}")
    return None, f"fallback: {why}"


class Vegeta:
    """One vegeta binary and a scratch directory for its targets and results."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.name = "vegeta " + Path(binary).name.removeprefix("vegeta-")
        self._runs = 0

    async def attack(self, targets: str, seconds: float, flags: list[str], *, json_targets: bool) -> Path:
        """Run one attack over `targets` (vegeta's HTTP or JSON format); the file of its results."""
        self._runs += 1
        suffix = "jsonl" if json_targets else "txt"
        targets_file = self.workdir / f"targets-{self._runs}.{suffix}"
        targets_file.write_text(targets)
        hits = self.workdir / f"hits-{self._runs}.bin"
        attack = await asyncio.create_subprocess_exec(
            self.binary,
            "attack",
            *(["-format=json"] if json_targets else []),
            f"-targets={targets_file}",
            f"-duration={seconds:g}s",
            f"-output={hits}",
            *flags,
        )
        if await attack.wait() != 0:
            raise RuntimeError(f"vegeta attack failed ({attack.returncode})")
        return hits

    async def report(self, hits: Path) -> dict[str, Any]:
        """vegeta's JSON report of an attack."""
        report: dict[str, Any] = json.loads(await self.run("report", "-type=json", str(hits)))
        return report

    async def run(self, *arguments: str) -> bytes:
        process = await asyncio.create_subprocess_exec(
            self.binary, *arguments, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"vegeta {arguments[0]} failed ({process.returncode})")
        return out


def summarize(report: dict[str, Any], answered: int) -> Summary:
    """A report in the benchmarks' summary shape; `answered`: the requests that got the expected status."""
    latencies = report["latencies"]
    requests = int(report["requests"])
    elapsed = (report["duration"] + report["wait"]) / 1e9

    def ms(nanoseconds: float) -> float:
        return round(nanoseconds / 1e6, 2)

    return {
        "requests": requests,
        "errors": requests - answered,
        "seconds": round(elapsed, 2),
        "requests_per_second": round(answered / elapsed, 1) if elapsed else 0.0,
        "p50_ms": ms(latencies["50th"]),
        "p90_ms": ms(latencies["90th"]),
        "p99_ms": ms(latencies["99th"]),
        "max_ms": ms(latencies["max"]),
        "mean_ms": ms(latencies["mean"]),
    }
