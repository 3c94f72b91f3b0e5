"""Every metric the alert rules and the Grafana dashboard query is exported by some service.

A rule over a metric nobody exports never fires and a panel over one stays empty; neither shows an
error anywhere. So the services' real /metrics are scraped and the PromQL of deploy/observability/
is checked against them.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from ozg_common.settings import PROJECT_ROOT
from ozg_testing import TestTokens, app_client

from .conftest import SERVICES, build_app

OBSERVABILITY = PROJECT_ROOT / "deploy" / "observability"

WRITTEN_BY_PROMETHEUS = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
"""Series Prometheus records itself for every scrape target."""

PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset"}
SAMPLE_SUFFIXES = {"histogram": ("_bucket", "_count", "_sum"), "summary": ("_count", "_sum")}


def exported_names(exposition: str) -> set[str]:
    """The series names a /metrics page offers, also for families that have no sample yet."""
    names: set[str] = set()
    for match in re.finditer(r"^# TYPE (\S+) (\S+)$", exposition, re.MULTILINE):
        name, kind = match[1], match[2]
        names.add(name)
        names.update(name + suffix for suffix in SAMPLE_SUFFIXES.get(kind, ()))
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (not its functions, labels or keywords)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"(?<![\w:.$])([a-zA-Z_:][\w:]*)(\s*\()?", expr):
        if match[2] is None and match[1] not in PROMQL_KEYWORDS:
            names.add(match[1])
    return names


def test_metric_names_are_found_in_promql() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (job, le) (rate(http_request_duration_seconds_bucket{status=~"5.."}'
        "[5m]))) > 2 and on (job) sum(kop_deliveries_pending offset 1h) or vector(0) > 1e3"
    )
    assert metric_names(expr) == {"http_request_duration_seconds_bucket", "kop_deliveries_pending"}


def alert_expressions() -> Iterator[tuple[str, str]]:
    rules = yaml.safe_load((OBSERVABILITY / "prometheus-rules.yaml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            yield f"alert {rule['alert']}", rule["expr"]


def dashboard_expressions() -> Iterator[tuple[str, str]]:
    def panels(container: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for panel in container.get("panels", []):
            yield panel
            yield from panels(panel)

    dashboard = json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text())
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield f"panel {panel['title']!r}", target["expr"]


@pytest.fixture(scope="module")
async def exported() -> dict[str, set[str]]:
    """Metric name → the services exporting it, from each service's real /metrics."""
    tokens = TestTokens()
    by_name: dict[str, set[str]] = {}
    for service in SERVICES:
        async with app_client(await build_app(service, tokens)) as client:
            answer = await client.get("/metrics")
        assert answer.status_code == 200, f"{service}: {answer.text}"
        for name in exported_names(answer.text):
            by_name.setdefault(name, set()).add(service)
    return by_name


@pytest.mark.parametrize(
    "source", [alert_expressions, dashboard_expressions], ids=["alert rules", "dashboard"]
)
async def test_every_queried_metric_is_exported(source: Any, exported: dict[str, set[str]]) -> None:
    missing = []
    for where, expr in source():
        names = metric_names(expr)
        assert names, f"{where}: no metric found in {expr!r}"
        missing += [f"{where}: {name}" for name in sorted(names - exported.keys() - WRITTEN_BY_PROMETHEUS)]
    assert not missing, "queried but exported by no service:\n" + "\n".join(missing)
