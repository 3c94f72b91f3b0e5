"""The verdict every benchmark ends with: each target against what the run measured.

A target that nothing measured (no value, or NaN) counts as missed, so a run that measured
nothing can never pass. `verdict` prints one line per target and the overall outcome, and gives
the record for the results file; the script exits with `exit_code(record)`.
"""

import math
from dataclasses import dataclass
from typing import Any, Literal

Relation = Literal[">=", "<", "<="]
SYMBOL: dict[str, str] = {">=": "≥", "<": "<", "<=": "≤"}


@dataclass(frozen=True, slots=True)
class Target:
    """One target: what was measured, and the bound it must reach (`>=`) or stay under (`<`, `<=`)."""

    name: str
    measured: float | None
    relation: Relation
    bound: float
    unit: str = ""

    @property
    def measured_anything(self) -> bool:
        return self.measured is not None and not math.isnan(self.measured)

    @property
    def met(self) -> bool:
        if self.measured is None or math.isnan(self.measured):
            return False
        if self.relation == ">=":
            return self.measured >= self.bound
        if self.relation == "<":
            return self.measured < self.bound
        return self.measured <= self.bound

    def line(self) -> str:
        shown = f"{self.measured:g}{self.unit}" if self.measured_anything else "nothing measured"
        outcome = "met" if self.met else "MISSED"
        return f"{outcome:6s} {self.name}: {shown} (target {SYMBOL[self.relation]} {self.bound:g}{self.unit})"


def verdict(benchmark: str, targets: list[Target]) -> dict[str, Any]:
    """Print every target's outcome and the overall verdict; the record for the results file."""
    met = bool(targets) and all(target.met for target in targets)
    print(f"verdict {benchmark}:")
    for target in targets:
        print(f"  {target.line()}")
    print(f"  => {'all targets met' if met else 'TARGET MISSED'}")
    return {
        "met": met,
        "targets": [
            {
                "name": target.name,
                "measured": target.measured if target.measured_anything else None,
                "bound": target.bound,
                "relation": target.relation,
                "met": target.met,
            }
            for target in targets
        ],
    }


def exit_code(record: dict[str, Any]) -> int:
    """0 when every target was met, 1 otherwise."""
    return 0 if record["met"] else 1
