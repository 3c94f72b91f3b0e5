"""Where the CLI writes: results on stdout (tables for people, JSON lines for scripts), progress on stderr."""

import json
from collections.abc import Iterable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Column, Table

# Values (names, errors, scopes) may hold brackets: never read them as rich markup.
console = Console(markup=False)
progress_console = Console(stderr=True, markup=False)


def json_lines(rows: Iterable[Any]) -> None:
    """One compact JSON document per line, never wrapped (for jq and scripts)."""
    for row in rows:
        typer.echo(json.dumps(row, ensure_ascii=False))


AsJson = Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")]
"""The `--json` switch of the listing commands."""


def payments_table(rows: list[dict[str, Any]], title: str, *, with_case: bool) -> Table:
    """Payment transactions (payment's admin answer), one row each."""
    columns = ["transaction", *(["case"] if with_case else []), "status", "amount", "Kassenzeichen"]
    table = Table(*folded(*columns, "created", "late provider result"), title=title)
    for row in rows:
        table.add_row(
            row["transactionId"],
            *([row.get("caseId") or ""] if with_case else []),
            row["status"],
            f"{row['amount']:.2f} EUR",
            row.get("transactionReference") or "",
            row["createdAt"],
            row.get("lateProviderStatus") or "",
        )
    return table


def folded(*headers: str) -> list[Column]:
    """Table columns that wrap long values instead of cutting them: ids must stay whole."""
    return [Column(header, overflow="fold") for header in headers]


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=progress_console,
    )
