"""`ozg payments reconciliation`: payment's reconciliation report, per day and Kassenzeichen."""

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from ozg_cli.client import AdminApiError, AdminClient, fail
from ozg_cli.output import console, folded

REPORT = "/v1/admin/reconciliation"


def reconciliation(
    ctx: typer.Context,
    first: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day (UTC, YYYY-MM-DD); default: --to."),
    ] = None,
    last: Annotated[
        datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (UTC); default: today.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON document.")] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print the report as CSV, one line per entry.")
    ] = False,
) -> None:
    """What was paid, what is still INITIAL past its timeout, and what a late provider result turned
    round (money after FAILED: refund the citizen or see that the application is processed)."""
    params = {"from": first and first.date().isoformat(), "to": last and last.date().isoformat()}
    try:
        with AdminClient(ctx.obj) as client:
            if as_csv:
                typer.echo(client.text("payment", REPORT, format="csv", **params), nl=False)
                return
            report: dict[str, Any] = client.get("payment", REPORT, **params)
    except AdminApiError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    days = report["days"]
    sums = ", ".join(
        f"{sum(day[kind]['count'] for day in days)} {label}"
        for kind, label in (("payed", "paid"), ("overdue", "overdue"), ("turnedRound", "turned round"))
    )
    console.print(f"{sums} ({report['from']} to {report['to']})")
    console.print(_table(days))


def _table(days: list[dict[str, Any]]) -> Table:
    table = Table(
        *folded("day", "Kassenzeichen", "kind", "amount", "status", "provider says", "transaction", "case")
    )
    for day in days:
        for entry in day["entries"]:
            table.add_row(
                entry["day"],
                entry["kassenzeichen"],
                entry["kind"],
                f"{entry['amount']:.2f} EUR",
                entry["status"],
                entry.get("providerStatus") or "",
                entry["transactionId"],
                entry.get("caseId") or "",
            )
    return table
