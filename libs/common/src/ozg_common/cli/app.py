"""`ozg`: the operators' command line for a running ozg-router suite.

Talks to the services' admin APIs (scope `admin`) over HTTP. Service addresses come from
OZG_CLI_<SERVICE>_URL (e.g. OZG_CLI_KOP_GATEWAY_URL), defaulting to the local ports 8001-8005.
"""

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from joserfc.jwk import RSAKey
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Column, Table

from ozg_common.cli.client import AdminApiError, AdminClient, Credentials, chunks, fail

console = Console()
app = typer.Typer(help=__doc__, no_args_is_help=True, rich_markup_mode=None)
areas = typer.Typer(help="Administrative areas (Gemeindeverzeichnis) in zufi.", no_args_is_help=True)
catalogue = typer.Typer(help="The catalogue of services (Leistungen) in zufi.", no_args_is_help=True)
clients = typer.Typer(help="API clients of the token issuer (submission).", no_args_is_help=True)
destinations = typer.Typer(
    help="Destinations (the authorities' Zustellkanäle) in zufi.", no_args_is_help=True
)
deliveries = typer.Typer(help="Deliveries to the authorities (kop-gateway).", no_args_is_help=True)
payments = typer.Typer(help="Payment transactions (XBezahldienste) in payment.", no_args_is_help=True)
cases = typer.Typer(help="Cases (Vorgänge) across all services.", no_args_is_help=True)
for group, name in [
    (areas, "areas"),
    (catalogue, "catalogue"),
    (clients, "clients"),
    (destinations, "destinations"),
    (deliveries, "deliveries"),
    (payments, "payments"),
    (cases, "cases"),
]:
    app.add_typer(group, name=name)

CATALOGUE_BATCH = 200


@app.callback()
def authenticate(
    ctx: typer.Context,
    token: Annotated[str | None, typer.Option(envvar="OZG_CLI_TOKEN", help="An admin bearer token.")] = None,
    client_id: Annotated[
        str | None,
        typer.Option(envvar="OZG_CLI_CLIENT_ID", help="Admin client id, to get a token from /token."),
    ] = None,
    client_secret: Annotated[
        str | None, typer.Option(envvar="OZG_CLI_CLIENT_SECRET", help="That client's secret.")
    ] = None,
) -> None:
    ctx.obj = Credentials(token=token, client_id=client_id, client_secret=client_secret)


@contextmanager
def admin(ctx: typer.Context) -> Iterator[AdminClient]:
    """An admin session; a refused request ends the command with its problem detail."""
    try:
        with AdminClient(ctx.obj) as client:
            yield client
    except AdminApiError as exc:
        raise fail(str(exc)) from exc


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def folded(*headers: str) -> list[Column]:
    """Table columns that wrap long values instead of cutting them: ids must stay whole."""
    return [Column(header, overflow="fold") for header in headers]


@areas.command("import")
def import_areas(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(exists=True, dir_okay=False, help="Gemeindeverzeichnis CSV; default: bundled"),
    ] = None,
    local: Annotated[
        bool,
        typer.Option(help="Run zufi's importer in this environment (`python -m ozg_zufi import-areas`)."),
    ] = False,
) -> None:
    """Import municipalities and districts, with their ARS/AGS and postal codes, into zufi."""
    if local:
        command = [sys.executable, "-m", "ozg_zufi", "import-areas", *([str(file)] if file else [])]
        raise typer.Exit(subprocess.call(command))
    if file is None:
        raise fail("give the CSV file to upload, or use --local to import the bundled one")
    size = file.stat().st_size

    def upload() -> Iterator[bytes]:
        with file.open("rb") as stream, progress() as bar:
            task = bar.add_task(f"uploading {file.name}", total=size)
            while chunk := stream.read(64 * 1024):
                bar.advance(task, len(chunk))
                yield chunk

    with admin(ctx) as client:
        result = client.post(
            "zufi", "/v1/admin/areas/import", content=upload(), headers={"Content-Type": "text/csv"}
        )
    console.print(f"imported: {json.dumps(result, ensure_ascii=False)}")


@catalogue.command("import")
def import_catalogue(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON: a list of services.")],
) -> None:
    """Create or update services (leikaKey, name, level, fees, form schema) in zufi, in batches."""
    document = json.loads(file.read_text())
    services: list[dict[str, Any]] = document["services"] if isinstance(document, dict) else document
    with admin(ctx) as client, progress() as bar:
        task = bar.add_task("importing services", total=len(services))
        for batch in chunks(services, CATALOGUE_BATCH):
            client.post("zufi", "/v1/admin/catalogue/import", json={"services": batch})
            bar.advance(task, len(batch))
    console.print(f"{len(services)} services imported")


@clients.command("create")
def create_client(
    ctx: typer.Context,
    client_id: Annotated[str, typer.Argument(help="The new client's id.")],
    scope: Annotated[
        list[str],
        typer.Option("--scope", "-s", help="A scope, repeatable: send, admin, destination:<id>, ..."),
    ],
) -> None:
    """Register an API client; its secret is shown once and stored only as a hash."""
    with admin(ctx) as client:
        created = client.post(
            "submission", "/v1/admin/clients", json={"clientId": client_id, "scopes": scope}
        )
    console.print(f"client_id:     {created['clientId']}\nclient_secret: {created['clientSecret']}")
    console.print("Store the secret now: it cannot be shown again.", style="yellow")


@clients.command("rotate-secret")
def rotate_client_secret(
    ctx: typer.Context, client_id: Annotated[str, typer.Argument(help="The client whose secret to replace.")]
) -> None:
    """Replace a client's secret; the old one stops working at once."""
    with admin(ctx) as client:
        rotated = client.post("submission", f"/v1/admin/clients/{client_id}/secret")
    console.print(f"client_id:     {client_id}\nclient_secret: {rotated['clientSecret']}")


@destinations.command("rotate-key")
def rotate_destination_key(
    ctx: typer.Context,
    destination_id: Annotated[str, typer.Argument(help="The destination (an authority's Zustellkanal).")],
    public_jwk: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="The authority's new public JWK (JSON).")
    ] = None,
    generate: Annotated[
        Path | None,
        typer.Option(dir_okay=False, help="Generate an RSA-4096 key pair; write the private JWK here."),
    ] = None,
) -> None:
    """Give a destination a new encryption key; new applications are encrypted for it."""
    if (public_jwk is None) == (generate is None):
        raise fail("give exactly one of --public-jwk or --generate")
    if generate is not None:
        key = RSAKey.generate_key(4096, parameters={"use": "enc", "alg": "RSA-OAEP-256"}, auto_kid=True)
        generate.touch(mode=0o600, exist_ok=False)
        generate.write_text(json.dumps(key.as_dict(private=True)))
        public = key.as_dict(private=False)
        console.print(f"private key written to {generate} (hand it to the authority; keep it secret)")
    else:
        assert public_jwk is not None
        public = json.loads(public_jwk.read_text())
    with admin(ctx) as client:
        answer = client.post(
            "zufi", f"/v1/admin/destinations/{destination_id}/keys", json={"publicKey": public}
        )
    console.print(
        f"destination {destination_id}: encryption key {answer.get('kid', public.get('kid'))} active"
    )


@deliveries.command("list")
def list_deliveries(
    ctx: typer.Context,
    dead: Annotated[bool, typer.Option("--dead", help="Only dead-lettered deliveries.")] = False,
    destination: Annotated[str | None, typer.Option(help="Only this destination id.")] = None,
    case: Annotated[str | None, typer.Option(help="Only this case id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
) -> None:
    """List deliveries, newest first, with their attempts and last error."""
    with admin(ctx) as client:
        rows = list(
            client.pages(
                "kop-gateway",
                "/v1/admin/deliveries",
                "deliveries",
                state="dead_lettered" if dead else None,
                destinationId=destination,
                caseId=case,
            )
        )
    if as_json:
        for row in rows:
            console.print_json(json.dumps(row))
        return
    table = Table(
        "id", "destination", "case", "state", "attempts", "last error", title=f"{len(rows)} deliveries"
    )
    for row in rows:
        table.add_row(
            row["id"],
            row["destinationId"],
            row["caseId"],
            row["state"],
            str(row["attemptCount"]),
            row.get("lastError") or "",
        )
    console.print(table)


@deliveries.command("replay")
def replay_delivery(
    ctx: typer.Context,
    delivery_id: Annotated[
        str | None, typer.Argument(help="The dead-lettered delivery to send again.")
    ] = None,
    all_dead: Annotated[
        bool, typer.Option("--all-dead", help="Replay every dead letter (of --destination, if given).")
    ] = False,
    destination: Annotated[str | None, typer.Option(help="With --all-dead: only this destination.")] = None,
) -> None:
    """Send dead-lettered deliveries again (same delivery id, so the receiver can deduplicate)."""
    with admin(ctx) as client:
        if all_dead:
            params = {"destinationId": destination} if destination else {}
            result = client.post("kop-gateway", "/v1/admin/dead-letters/replay", params=params)
            console.print(f"{result['replayed']} deliveries queued again")
        elif delivery_id is not None:
            delivery = client.post("kop-gateway", f"/v1/admin/deliveries/{delivery_id}/replay")
            console.print(f"delivery {delivery['id']} is {delivery['state']} again")
        else:
            raise fail("give a DELIVERY_ID or --all-dead")


@payments.command("list")
def list_payments(
    ctx: typer.Context,
    case: Annotated[str | None, typer.Option(help="Only this case id.")] = None,
    status: Annotated[
        str | None, typer.Option(help="Only this state: INITIAL, PAYED, CANCELED or FAILED.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
) -> None:
    """List payment transactions, newest first, with their Kassenzeichen and any late provider result."""
    with admin(ctx) as client:
        rows = list(
            client.pages(
                "payment",
                "/v1/admin/transactions",
                "transactions",
                caseId=case,
                status=status.upper() if status else None,
            )
        )
    if as_json:
        for row in rows:
            console.print_json(json.dumps(row))
        return
    table = Table(
        *folded(
            "transaction", "case", "status", "amount", "Kassenzeichen", "created", "late provider result"
        ),
        title=f"{len(rows)} payment transactions",
    )
    for row in rows:
        table.add_row(
            row["transactionId"],
            row.get("caseId") or "",
            row["status"],
            f"{row['amount']:.2f} EUR",
            row.get("transactionReference") or "",
            row["createdAt"],
            row.get("lateProviderStatus") or "",
        )
    console.print(table)


@payments.command("reconciliation")
def payments_to_reconcile(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
) -> None:
    """Transactions whose provider contradicted their final state (e.g. money after FAILED).

    Each needs an operator: refund the citizen, or see that the application is processed.
    """
    with admin(ctx) as client:
        rows: list[dict[str, Any]] = client.get("payment", "/v1/admin/reconciliation")
    if as_json:
        for row in rows:
            console.print_json(json.dumps(row))
        return
    table = Table(
        *folded("transaction", "case", "status here", "provider says", "reported", "Kassenzeichen"),
        title=f"{len(rows)} transactions to reconcile",
    )
    for row in rows:
        table.add_row(
            row["transactionId"],
            row.get("caseId") or "",
            row["status"],
            row["providerStatus"],
            row["reportedAt"],
            row["transactionReference"],
        )
    console.print(table)


TRAIL_SOURCES = [
    ("submission", "events", "/v1/admin/cases/{case}/events", {}),
    ("kop-gateway", "deliveries", "/v1/admin/deliveries", {"caseId": "{case}"}),
    ("payment", "transactions", "/v1/admin/transactions", {"caseId": "{case}"}),
    ("mailbox", "application", "/v1/admin/applications/{case}", {}),
]


@cases.command("trail")
def case_trail(
    ctx: typer.Context,
    case_id: Annotated[str, typer.Argument(help="The case id (from the submission's answer).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the raw answers as one JSON document.")
    ] = False,
) -> None:
    """Everything the suite knows about one case: events, deliveries, payments, status monitor."""
    trail: dict[str, Any] = {}
    with admin(ctx) as client:
        for service, label, path, params in TRAIL_SOURCES:
            query = {name: value.format(case=case_id) for name, value in params.items()}
            try:
                trail[f"{service} {label}"] = client.get(service, path.format(case=case_id), **query)
            except AdminApiError as exc:
                outcome = "notFound" if exc.status == 404 else "unavailable"
                trail[f"{service} {label}"] = {outcome: str(exc)}
    if as_json:
        console.print_json(json.dumps(trail))
        return
    for source, answer in trail.items():
        console.rule(source)
        console.print_json(json.dumps(answer))


def main() -> None:
    app(prog_name="ozg")
