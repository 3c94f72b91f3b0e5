"""CPU time of processes on this machine, read from Linux /proc, for costing work per application."""

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Process:
    """One live process: its parent, its command line and the CPU it used so far."""

    pid: int
    parent: int
    command: str
    cpu_seconds: float
    """User + system time."""


def processes() -> list[Process]:
    """Every live process (those that exit while being read are left out)."""
    found = []
    for directory in Path("/proc").glob("[0-9]*"):
        try:
            fields = (directory / "stat").read_text().rsplit(")", 1)[1].split()
            command = (directory / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        cpu = (int(fields[11]) + int(fields[12])) / TICKS
        found.append(Process(int(directory.name), int(fields[1]), command.strip(), cpu))
    return found


def tree_cpu_seconds(pid: int, table: list[Process] | None = None) -> float:
    """CPU of a process and its live descendants (uvicorn workers are children of the server)."""
    table = processes() if table is None else table
    tree, grew = {pid}, True
    while grew:
        children = {p.pid for p in table if p.parent in tree} - tree
        tree |= children
        grew = bool(children)
    return sum(p.cpu_seconds for p in table if p.pid in tree)


def matching_cpu_seconds(matches: Callable[[str], bool], table: list[Process] | None = None) -> float:
    """CPU of every process whose command line `matches`."""
    table = processes() if table is None else table
    return sum(p.cpu_seconds for p in table if matches(p.command))


def is_postgres(command: str) -> bool:
    """The postmaster (`…/bin/postgres -D …`) or one of its processes (`postgres: …`)."""
    return command.startswith("postgres") or command.split(" ", 1)[0].endswith("/postgres")


REFERENCE_ITERATIONS = 2_000_000


def reference_loop_cpu_ms(repeats: int = 5) -> float:
    """CPU milliseconds of a fixed pure-Python loop, the least of `repeats` timings.

    A yardstick timed in the same run as a benchmark: CPU per application divided by it compares
    between hosts (and between a fast and a slow spell of one shared host) where milliseconds do not.
    """
    best = math.inf
    for _ in range(repeats):
        started = time.process_time()
        total = 0
        for i in range(REFERENCE_ITERATIONS):
            total += i % 7
        best = min(best, time.process_time() - started)
    return round(best * 1000, 2)
