"""`ozg`: the operators' command line for a running ozg-router suite.

Talks to the services' admin APIs (scope `admin`) over HTTP. Service addresses come from
OZG_CLI_<SERVICE>_URL (e.g. OZG_CLI_KOP_GATEWAY_URL), defaulting to the local ports 8001-8005.
"""

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from joserfc.jwk import RSAKey
from rich.table import Table

from ozg_cli import trail
from ozg_cli.client import AdminApiError, AdminClient, Credentials, fail
from ozg_cli.output import AsJson, console, folded, json_lines, payments_table
from ozg_cli.reconciliation import reconciliation
from ozg_cli.uploads import ProgressFile, file_chunks, upload_progress

app = typer.Typer(help=__doc__, no_args_is_help=True, rich_markup_mode=None)
areas = typer.Typer(help="Administrative areas (Gemeindeverzeichnis) in zufi.", no_args_is_help=True)
catalogue = typer.Typer(
    help="The catalogue in zufi: services (Leistungen), authorities, responsibilities.", no_args_is_help=True
)
clients = typer.Typer(help="API clients of the token issuer (submission).", no_args_is_help=True)
destinations = typer.Typer(
    help="Destinations (the authorities' Zustellkanäle) in zufi.", no_args_is_help=True
)
deliveries = typer.Typer(help="Deliveries to the authorities (kop-gateway).", no_args_is_help=True)
payments = typer.Typer(help="Payment transactions (XBezahldienste) in payment.", no_args_is_help=True)
cases = typer.Typer(help="Cases (Vorgänge) across all services.", no_args_is_help=True)
payments.command("reconciliation")(reconciliation)
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

IMPORT_TIMEOUT = 600.0
"""An import answers once zufi wrote it all; the whole Gemeindeverzeichnis takes a while."""
AREA_PARTS = {"gemeindeverzeichnis": "gv-auszug.csv", "postalCodes": "plz-ort-landkreis.csv"}
"""zufi's upload parts and the files of an area directory (as `python -m ozg_zufi import-areas` reads)."""


class RecordKind(StrEnum):
    """What the rows of a CSV catalogue file are."""

    services = "services"
    authorities = "authorities"
    responsibilities = "responsibilities"


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


@areas.command("import")
def import_areas(
    ctx: typer.Context,
    directory: Annotated[
        Path,
        typer.Argument(
            exists=True,
            file_okay=False,
            help="Folder with gv-auszug.csv (Destatis GV-ISys) and plz-ort-landkreis.csv.",
        ),
    ],
) -> None:
    """Upload the Gemeindeverzeichnis to zufi: municipalities, districts, ARS/AGS, postal codes.

    The same files and import as `python -m ozg_zufi import-areas --from DIRECTORY`, run by zufi
    itself: areas are updated in place, the postal code mapping is replaced by the files' one, so
    upload the complete directory. Running it twice changes nothing.
    """
    paths = {part: directory / file for part, file in AREA_PARTS.items()}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        raise fail(f"missing {' and '.join(missing)}")
    total = sum(path.stat().st_size for path in paths.values())
    with (
        admin(ctx) as client,
        upload_progress(f"uploading {directory.name}", total, "zufi") as advance,
        ExitStack() as opened,
    ):
        files = {
            part: (path.name, opened.enter_context(ProgressFile(path, advance)), "text/csv")
            for part, path in paths.items()
        }
        result = client.post("zufi", "/v1/admin/import/areas", files=files, timeout=IMPORT_TIMEOUT)
    console.print(
        f"{result['areas']} areas ({result['gemeinden']} Gemeinden) and {result['postalCodes']} postal codes "
        f"imported; {result['skippedPostalRows']} postal code rows named no Gemeinde of the directory"
    )


@catalogue.command("import")
def import_catalogue(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help='JSON bundle {"services": [...], "authorities": [...], "responsibilities": [...]}, '
            "or a CSV file of one kind (with --kind).",
        ),
    ],
    kind: Annotated[RecordKind | None, typer.Option(help="What the rows of a CSV file are.")] = None,
) -> None:
    """Create or replace services, authorities (with their Zustellkanal) and responsibilities in zufi.

    One file is one transaction: if any record is invalid, zufi names it and imports nothing.
    The format is that of zufi's POST /v1/admin/import (see its OpenAPI document).
    """
    if file.suffix.lower() == ".csv":
        if kind is None:
            raise fail("a CSV file holds one kind of record: give --kind")
        media_type, params = "text/csv", {"kind": kind.value}
    elif file.suffix.lower() == ".json":
        if kind is not None:
            raise fail("--kind is for CSV files; a JSON bundle names its kinds")
        media_type, params = "application/json", {}
    else:
        raise fail("give a .json bundle or a .csv file")
    size = file.stat().st_size
    with admin(ctx) as client, upload_progress(f"uploading {file.name}", size, "zufi") as advance:
        result = client.post(
            "zufi",
            "/v1/admin/import",
            params=params,
            content=file_chunks(file, advance),
            headers={"Content-Type": media_type, "Content-Length": str(size)},
            timeout=IMPORT_TIMEOUT,
        )
    console.print(
        f"imported {result['services']} services, {result['authorities']} authorities, "
        f"{result['responsibilities']} responsibilities"
    )


@clients.command("list")
def list_clients(
    ctx: typer.Context,
    as_json: AsJson = False,
) -> None:
    """List the API clients with their scopes (never their secrets)."""
    with admin(ctx) as client:
        rows: list[dict[str, Any]] = client.get("submission", "/v1/admin/clients")
    if as_json:
        json_lines(rows)
        return
    table = Table(*folded("client", "scopes", "active", "updated"), title=f"{len(rows)} API clients")
    for row in rows:
        table.add_row(row["clientId"], " ".join(row["scopes"]), str(row["active"]), row["updatedAt"])
    console.print(table)


@clients.command("create")
def create_client(
    ctx: typer.Context,
    client_id: Annotated[str, typer.Argument(help="The new client's id.")],
    scope: Annotated[
        list[str],
        typer.Option("--scope", "-s", help="A scope, repeatable: send, admin, destination:<id>, ..."),
    ],
    description: Annotated[str | None, typer.Option(help="Who uses it, for the next operator.")] = None,
) -> None:
    """Register an API client; its secret is shown once and stored only as a hash."""
    body = {"clientId": client_id, "scopes": scope, "description": description}
    with admin(ctx) as client:
        created = client.post("submission", "/v1/admin/clients", json=body)
    console.print(f"client_id:     {created['clientId']}\nclient_secret: {created['clientSecret']}")
    console.print("Store the secret now: it cannot be shown again.", style="yellow")


@clients.command("rotate-secret")
def rotate_client_secret(
    ctx: typer.Context,
    client_id: Annotated[str, typer.Argument(help="The client whose secret to replace.")],
    grace: Annotated[
        int,
        typer.Option(min=0, max=7 * 24 * 3600, help="Seconds the old secret keeps working (default: none)."),
    ] = 0,
) -> None:
    """Replace a client's secret; the old one stops working at once, or after --grace seconds."""
    with admin(ctx) as client:
        rotated = client.post(
            "submission", f"/v1/admin/clients/{client_id}/secret", json={"graceSeconds": grace}
        )
    console.print(f"client_id:     {client_id}\nclient_secret: {rotated['clientSecret']}")
    if rotated.get("previousSecretValidUntil"):
        console.print(f"The old secret works until {rotated['previousSecretValidUntil']}.")


@destinations.command("rotate-key")
def rotate_destination_key(
    ctx: typer.Context,
    destination_id: Annotated[str, typer.Argument(help="The destination (an authority's Zustellkanal).")],
    public_jwk: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="The authority's new public encryption JWK (JSON)."),
    ] = None,
    generate: Annotated[
        Path | None,
        typer.Option(
            dir_okay=False, help="Generate an RSA-4096 encryption key pair; write the private JWK here."
        ),
    ] = None,
    signing_jwk: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="The authority's new public signature key (JWK, PS512); it verifies its decisions.",
        ),
    ] = None,
    authority: Annotated[
        str | None,
        typer.Option(help="The destination's authority id (default: asked of kop-gateway's directory)."),
    ] = None,
) -> None:
    """Give a destination a new encryption key (applications from now on are encrypted for it),
    a new signature verification key, or both.

    Rewrites the authority in zufi (PUT /v1/admin/authorities/{id}, If-Match the version read) with
    everything else unchanged, keys not named included; zufi publishes the change, so every service
    uses the new key within seconds.
    """
    if public_jwk is not None and generate is not None:
        raise fail("give one of --public-jwk or --generate")
    if public_jwk is None and generate is None and signing_jwk is None:
        raise fail("give the new key: --public-jwk or --generate (encryption), --signing-jwk (signatures)")
    if generate is not None and generate.exists():
        raise fail(f"{generate} exists: a private key is never overwritten")
    encryption = json.loads(public_jwk.read_text()) if public_jwk is not None else None
    signing = json.loads(signing_jwk.read_text()) if signing_jwk is not None else None
    with admin(ctx) as client:
        authority_id = authority or authority_of(client, destination_id)
        current, version = client.get_versioned("zufi", f"/v1/admin/authorities/{authority_id}")
        if (current.get("destination") or {}).get("id") != destination_id:
            raise fail(f"authority {authority_id} does not own destination {destination_id}")
        if generate is not None:
            key = RSAKey.generate_key(4096, parameters={"use": "enc", "alg": "RSA-OAEP-256"}, auto_kid=True)
            # Stored before zufi activates its public half: an active key is never without its private one.
            generate.touch(mode=0o600, exist_ok=False)
            generate.write_text(json.dumps(key.as_dict(private=True)))
            encryption = key.as_dict(private=False)
        try:
            body = with_keys(client, current, encryption=encryption, signing=signing)
            # Only over what was read: another administrator's change made meanwhile is not undone
            # by writing the old authority back. (zufi's recompute of what it offers changes the tag
            # too, though a PUT would not undo it: the rotation is then simply run again.)
            answer = client.put(
                "zufi",
                f"/v1/admin/authorities/{authority_id}",
                json=body,
                headers={"If-Match": version} if version else {},
            )
        except AdminApiError as exc:
            if generate is not None:
                generate.unlink()  # never active, so nothing to hand over
            if exc.status == 412:
                raise fail(f"authority {authority_id} changed meanwhile; run the rotation again") from exc
            raise
    if generate is not None:
        console.print(f"private key written to {generate} (hand it to the authority; keep it secret)")
    active = answer["destination"]
    if signing is not None and active.get("signingKid") != signing.get("kid"):
        raise fail(f"zufi did not take the signature key: it answered signing key {active.get('signingKid')}")
    console.print(f"destination {destination_id}: encryption key {active['encryptionKid']} active")
    if active.get("signingKid"):
        console.print(f"destination {destination_id}: signature key {active['signingKid']} active")


def authority_of(client: AdminClient, destination_id: str) -> str:
    """The authority owning a destination, from kop-gateway's directory (zufi has no such lookup)."""
    try:
        known = client.get("kop-gateway", f"/v1/admin/destinations/{destination_id}")
    except AdminApiError as exc:
        if exc.status != 404:
            raise
        raise fail(f"kop-gateway does not know destination {destination_id} (yet): give --authority") from exc
    return str(known["authorityId"])


def with_keys(
    client: AdminClient,
    authority: dict[str, Any],
    *,
    encryption: dict[str, Any] | None,
    signing: dict[str, Any] | None,
) -> dict[str, Any]:
    """The authority as zufi answered it, to write back: new keys where given, the current ones kept.

    zufi answers key ids only; the current public keys come from its public key endpoint.
    """
    current = authority["destination"]

    def published(kid: str) -> dict[str, Any]:
        key: dict[str, Any] = client.get("zufi", f"/v1/destinations/{current['id']}/keys/{kid}")
        return key

    destination = {
        name: value
        for name, value in current.items()
        if name not in {"encryptionKid", "signingKid", "offeredServices"}  # shown, not written
    }
    destination["encryptionKey"] = encryption or published(current["encryptionKid"])
    if signing is not None or current.get("signingKid"):
        destination["signingKey"] = signing or published(current["signingKid"])
    body = {name: value for name, value in authority.items() if name not in {"id", "updatedAt"}}
    return {**body, "destination": destination}


@deliveries.command("list")
def list_deliveries(
    ctx: typer.Context,
    dead: Annotated[bool, typer.Option("--dead", help="Only dead-lettered deliveries.")] = False,
    destination: Annotated[str | None, typer.Option(help="Only this destination id.")] = None,
    case: Annotated[str | None, typer.Option(help="Only this case id.")] = None,
    as_json: AsJson = False,
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
        json_lines(rows)
        return
    table = Table(
        *folded("id", "kind", "destination", "case", "state", "attempts", "last error"),
        title=f"{len(rows)} deliveries",
    )
    for row in rows:
        table.add_row(
            row["id"],
            row["kind"],
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
    as_json: AsJson = False,
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
        json_lines(rows)
        return
    console.print(payments_table(rows, f"{len(rows)} payment transactions", with_case=True))


@cases.command("trail")
def case_trail(
    ctx: typer.Context,
    case_id: Annotated[str, typer.Argument(help="The case id (from the submission's answer).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the raw answers as one JSON document.")
    ] = False,
) -> None:
    """Everything the suite knows about one case: its submissions and signed event log (submission),
    deliveries (kop-gateway), payments (payment), status monitor and messages (mailbox).

    A service that does not know the case or cannot be reached is named, the others still shown.
    """
    with admin(ctx) as client:
        found = trail.gather(client, case_id)
    if as_json:
        json_lines([found])
        return
    trail.show(found)


def main() -> None:
    app(prog_name="ozg")
