"""Where the CLI writes: results on stdout (tables for people, JSON lines for scripts), progress on stderr."""

import json
from collections.abc import Iterable
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Column

# Values (names, errors, scopes) may hold brackets: never read them as rich markup.
console = Console(markup=False)
progress_console = Console(stderr=True, markup=False)


def json_lines(rows: Iterable[Any]) -> None:
    """One compact JSON document per line, never wrapped (for jq and scripts)."""
    for row in rows:
        typer.echo(json.dumps(row, ensure_ascii=False))


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
