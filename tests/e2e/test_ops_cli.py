"""The `ozg` operators' CLI against the real services, each its own process on Kafka and PostgreSQL.

An operator onboards a Land (areas, then services, authorities and responsibilities), manages API
clients, rotates an authority's key, and follows an application through every service.
"""

import asyncio
import json
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey
from typer.testing import CliRunner, Result

from ozg_cli import app
from ozg_cli.client import SERVICES
from ozg_cli.output import console
from ozg_testing.suite_harness import Suite, directory_excerpt
from ozg_zufi.settings import DATA_DIR as AREA_DATA

BREMEN = "040110000000"
"""Bremen, Stadt: a Gemeinde of a Land the e2e suite does not import at start (it has Land 01 only)."""
AUSKUNFT = "99000000000771"
"""A service of this test's own catalogue."""

Ozg = Callable[..., Awaitable[Result]]


@pytest.fixture(scope="module")
def ozg(suite: Suite) -> Ozg:
    """`ozg ARGS...` as an operator runs it: service URLs and admin client credentials from the env."""
    admin = suite.client("admin")
    env = {f"OZG_CLI_{name.upper().replace('-', '_')}_URL": suite.url(name) for name in SERVICES}
    env |= {"OZG_CLI_CLIENT_ID": admin["client_id"], "OZG_CLI_CLIENT_SECRET": admin["client_secret"]}

    async def run(*args: str, ok: bool = True) -> Result:
        result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)
        if ok:
            assert result.exit_code == 0, f"ozg {' '.join(args)}: {result.output}"
        return result

    return run


async def eventually(what: str, probe: Callable[[], Awaitable[Any]], within: float = 45) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if found := await probe():
            return found
        await asyncio.sleep(0.3)
    raise AssertionError(f"{what}: not within {within:.0f} s")


async def admin_get(suite: Suite, http: httpx.AsyncClient, service: str, path: str) -> httpx.Response:
    token = await suite.token(http, "admin")
    return await http.get(f"{suite.url(service)}{path}", headers={"Authorization": f"Bearer {token}"})


def signing_key(key: RSAKey, kid: str) -> dict[str, Any]:
    """A public signature verification JWK (PS512); any RSA-4096 key does for the test."""
    public = key.as_dict(private=False)
    return {"kty": "RSA", "n": public["n"], "e": public["e"], "kid": kid, "alg": "PS512"}


@dataclass
class Onboarded:
    """What the operator imported: the area answers of two runs, and the catalogue's ids."""

    area_runs: list[str]
    catalogue_output: str
    office: str
    """Destination of the authority responsible for AUSKUNFT in Bremen."""
    office_authority: str
    key_office: str
    """Destination of a second authority, whose key the operator rotates."""
    key_office_authority: str


@pytest.fixture(scope="module")
async def onboarded(suite: Suite, ozg: Ozg, tmp_path_factory: pytest.TempPathFactory) -> Onboarded:
    work = tmp_path_factory.mktemp("ops-cli")
    lands = (*suite.lands, "04") if suite.lands else None
    directory = directory_excerpt(AREA_DATA, work / "areas", lands) if lands else AREA_DATA
    area_runs = [(await ozg("areas", "import", str(directory))).stdout for _ in range(2)]

    demo_key = RSAKey.import_key(
        json.loads((suite.run_dir / "demo-keys" / "destination-private.jwk.json").read_text())
    )
    office, office_authority, key_office, key_office_authority = (str(uuid.uuid4()) for _ in range(4))

    def authority(authority_id: str, destination_id: str, name: str, **keys: Any) -> dict[str, Any]:
        return {
            "id": authority_id,
            "name": name,
            "areaId": BREMEN,
            "address": {"street": "Am Markt", "houseNumber": "21", "postalCode": "28195", "city": "Bremen"},
            "destination": {
                "id": destination_id,
                "url": f"{suite.url('demo-receiver')}/kop/{destination_id}",
                "encryptionKey": demo_key.as_dict(private=False),
                "services": [AUSKUNFT],
                **keys,
            },
        }

    bundle = {
        "services": [
            {
                "leikaKey": AUSKUNFT,
                "name": "Auskunft aus dem Melderegister (E2E)",
                "level": "GEMEINDE",
                "formSchema": {
                    "type": "object",
                    "required": ["zweck"],
                    "properties": {"zweck": {"type": "string", "maxLength": 200}},
                },
            }
        ],
        "authorities": [
            authority(office_authority, office, "Bürgeramt Bremen-Mitte (E2E)"),
            authority(
                key_office_authority,
                key_office,
                "Standesamt Bremen (E2E)",
                signingKey=signing_key(demo_key, "e2e-signing-1"),
            ),
        ],
        "responsibilities": [{"leikaKey": AUSKUNFT, "areaId": BREMEN, "authorityId": office_authority}],
    }
    (work / "catalogue.json").write_text(json.dumps(bundle, ensure_ascii=False))
    imported = await ozg("catalogue", "import", str(work / "catalogue.json"))
    return Onboarded(area_runs, imported.stdout, office, office_authority, key_office, key_office_authority)


async def test_areas_upload_twice_adds_a_land_and_changes_nothing_the_second_time(
    suite: Suite, http: httpx.AsyncClient, onboarded: Onboarded
) -> None:
    first, second = onboarded.area_runs
    assert first == second
    assert re.search(r"\d+ areas \(\d+ Gemeinden\) and \d+ postal codes imported", first), first
    bremen = await http.get(f"{suite.url('zufi')}/v1/areas/{BREMEN}")
    assert (bremen.status_code, bremen.json()["name"]) == (200, "Bremen, Stadt")
    by_postal_code = await http.get(f"{suite.url('zufi')}/v1/areas", params={"areaSearchexpression": "28195"})
    assert BREMEN in [area["id"] for area in by_postal_code.json()["areas"]]


async def test_catalogue_import_makes_the_new_authority_responsible(
    suite: Suite, http: httpx.AsyncClient, onboarded: Onboarded
) -> None:
    assert "imported 1 services, 2 authorities, 1 responsibilities" in onboarded.catalogue_output
    routes = await http.get(f"{suite.url('zufi')}/v1/routes", params={"leikaKey": AUSKUNFT, "ars": BREMEN})
    assert [r["destinationId"] for r in routes.json()["routes"]] == [onboarded.office]


async def test_a_catalogue_with_one_bad_record_is_refused_whole(
    suite: Suite, http: httpx.AsyncClient, ozg: Ozg, tmp_path: Path
) -> None:
    bundle = {
        "services": [{"leikaKey": "99000000000772", "name": "Nie importiert", "level": "LAND"}],
        "responsibilities": [
            {"leikaKey": "99000000000772", "areaId": BREMEN, "authorityId": str(uuid.uuid4())}
        ],
    }
    (tmp_path / "bad.json").write_text(json.dumps(bundle))
    refused = await ozg("catalogue", "import", str(tmp_path / "bad.json"), ok=False)
    assert refused.exit_code == 1
    assert "422" in refused.output
    assert "responsibilities.0" in refused.output
    assert (await http.get(f"{suite.url('zufi')}/v1/services/99000000000772")).status_code == 404


async def test_a_client_is_created_and_its_secret_rotated(
    suite: Suite, http: httpx.AsyncClient, ozg: Ozg
) -> None:
    client_id = f"ops-e2e-{uuid.uuid4().hex[:8]}"

    def secret_of(result: Result) -> str:
        found = re.search(r"client_secret:\s+(\S+)", result.stdout)
        assert found, result.output
        return found.group(1)

    async def token_status(secret: str) -> int:
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        return (await http.post(f"{suite.url('submission')}/token", data=form)).status_code

    created = await ozg("clients", "create", client_id, "--scope", "send", "--description", "E2E form")
    old = secret_of(created)
    assert await token_status(old) == 200
    new = secret_of(await ozg("clients", "rotate-secret", client_id))
    assert (await token_status(new), await token_status(old)) == (200, 401)

    listing = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "ozg"),
        "clients",
        "list",
        "--json",
        stdout=asyncio.subprocess.PIPE,
        env={
            "OZG_CLI_SUBMISSION_URL": suite.url("submission"),
            "OZG_CLI_TOKEN": await suite.token(http, "admin"),
        },
    )
    output, _ = await listing.communicate()
    assert listing.returncode == 0
    listed = {row["clientId"]: row for row in map(json.loads, output.decode().splitlines())}
    assert (listed[client_id]["scopes"], listed[client_id]["description"]) == (["send"], "E2E form")


async def test_a_destination_key_is_rotated_and_everyone_encrypts_for_the_new_one(
    suite: Suite, http: httpx.AsyncClient, ozg: Ozg, onboarded: Onboarded, tmp_path: Path
) -> None:
    destination = onboarded.key_office

    async def gateway_knows() -> bool:
        return (
            await admin_get(suite, http, "kop-gateway", f"/v1/admin/destinations/{destination}")
        ).is_success

    await eventually("kop-gateway to learn the new destination", gateway_knows)
    weak = RSAKey.generate_key(2048, parameters={"kid": "too-weak"})
    (tmp_path / "weak.json").write_text(json.dumps(weak.as_dict(private=False)))
    refused = await ozg(
        "destinations", "rotate-key", destination, "--public-jwk", str(tmp_path / "weak.json"), ok=False
    )
    assert (refused.exit_code, "4096" in refused.output) == (1, True)

    before = (
        await admin_get(suite, http, "zufi", f"/v1/admin/authorities/{onboarded.key_office_authority}")
    ).json()
    await ozg("destinations", "rotate-key", destination, "--generate", str(tmp_path / "new-key.jwk.json"))
    private = json.loads((tmp_path / "new-key.jwk.json").read_text())
    assert "d" in private
    assert (tmp_path / "new-key.jwk.json").stat().st_mode & 0o077 == 0

    public = (await http.get(f"{suite.url('zufi')}/v1/destinations/{destination}")).json()
    assert public["encryptionKid"] == private["kid"]
    after = (
        await admin_get(suite, http, "zufi", f"/v1/admin/authorities/{onboarded.key_office_authority}")
    ).json()
    unchanged = ("name", "areaId", "address", "contactPersons")
    assert [after[k] for k in unchanged] == [before[k] for k in unchanged]
    assert before["destination"]["signingKid"] == "e2e-signing-1", "the signature key is kept"
    assert {**after["destination"], "encryptionKid": None} == {**before["destination"], "encryptionKid": None}

    async def sender_sees_new_key() -> bool:
        answer = await http.get(
            f"{suite.url('submission')}/v1/destinations/{destination}",
            headers={"Authorization": f"Bearer {await suite.token(http, 'send')}"},
        )
        return answer.is_success and answer.json()["encryptionKid"] == private["kid"]

    await eventually("submission to encrypt for the new key", sender_sees_new_key)

    # The authority's new signature key (any RSA-4096 key does here; it needs a kid of its own).
    (tmp_path / "signing.json").write_text(
        json.dumps(signing_key(RSAKey.import_key(private), "e2e-signing-2"))
    )
    await ozg("destinations", "rotate-key", destination, "--signing-jwk", str(tmp_path / "signing.json"))
    signed = (
        await admin_get(suite, http, "zufi", f"/v1/admin/authorities/{onboarded.key_office_authority}")
    ).json()
    assert (signed["destination"]["encryptionKid"], signed["destination"]["signingKid"]) == (
        private["kid"],
        "e2e-signing-2",
    )
    published = await http.get(f"{suite.url('zufi')}/v1/destinations/{destination}/keys/e2e-signing-2")
    assert published.json()["alg"] == "PS512"


async def submitted_application(suite: Suite, http: httpx.AsyncClient, demo: ModuleType) -> dict[str, Any]:
    """A citizen's application for AUSKUNFT in Bremen, with a mailbox to hear back in."""
    subject = f"ops-e2e-{uuid.uuid4().hex[:8]}"
    citizen = await asyncio.to_thread(demo.citizen_login, suite.url("mailbox"), subject)
    citizen_headers = {"Authorization": f"Bearer {citizen}"}
    mailbox = await http.get(f"{suite.url('mailbox')}/v1/mailbox", headers=citizen_headers)
    application = {
        "leikaKey": AUSKUNFT,
        "ars": BREMEN,
        "applicant": {"givenName": "Jan", "familyName": "Ops"},
        "formData": {"zweck": "Wohnungsnachweis"},
        "replyChannel": {"idBundDeMailbox": {"mailboxUuid": mailbox.json()["mailboxUuid"]}},
    }
    sender = {"Authorization": f"Bearer {await suite.token(http, 'send')}"}

    async def accepted() -> dict[str, Any] | None:
        answer = await http.post(
            f"{suite.url('submission')}/v1/applications", json=application, headers=sender
        )
        return dict(answer.json()) if answer.status_code == 201 else None

    created: dict[str, Any] = await eventually("submission to take the application", accepted)
    return created


async def test_the_trail_follows_an_application_through_every_service(
    suite: Suite,
    http: httpx.AsyncClient,
    ozg: Ozg,
    onboarded: Onboarded,
    demo: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await suite.grant_receiver(http, [onboarded.office])
    case_id = (await submitted_application(suite, http, demo))["caseId"]

    async def delivered() -> list[dict[str, Any]] | None:
        listed = await ozg("deliveries", "list", "--case", case_id, "--json")
        rows = [json.loads(line) for line in listed.stdout.splitlines()]
        return rows if rows and all(row["state"] == "succeeded" for row in rows) else None

    [delivery] = await eventually("the delivery to the authority", delivered)
    assert (delivery["destinationId"], delivery["kind"]) == (onboarded.office, "submission")

    async def decided() -> dict[str, Any] | None:
        trail = json.loads((await ozg("cases", "trail", case_id, "--json")).stdout)
        events = [e["event"] for e in trail["submission events"].get("events", [])]
        steps = [s["status"] for s in trail["mailbox application"].get("steps", [])]
        return trail if "accept-submission" in events and "RECEIVED" in steps else None

    trail = await eventually("the authority's acceptance in every service", decided)
    log = trail["submission events"]
    assert log["submissions"][0]["destinationId"] == onboarded.office
    assert {"submit-submission", "accept-submission"} <= {event["event"] for event in log["events"]}
    assert all(event["claims"]["txn"] == f"case:{case_id}" and event["token"] for event in log["events"])
    assert [d["id"] for d in trail["kop-gateway deliveries"]["deliveries"]] == [delivery["id"]]
    assert trail["payment transactions"]["totalCount"] == 0
    assert trail["mailbox application"]["destinationId"] == onboarded.office

    monkeypatch.setattr(console, "width", 200)  # an operator's terminal, not the runner's 80 columns
    shown = (await ozg("cases", "trail", case_id)).stdout
    for heading in ("submission events", "event log", "kop-gateway deliveries", "status monitor"):
        assert heading in shown
    assert "accept-submission" in shown
    assert delivery["id"] in shown

    not_dead = await ozg("deliveries", "replay", delivery["id"], ok=False)
    assert (not_dead.exit_code, "409" in not_dead.output) == (1, True)


async def test_dead_letters_and_payments_are_listed_from_the_real_services(ozg: Ozg) -> None:
    assert "deliveries" in (await ozg("deliveries", "list", "--dead")).stdout
    assert "queued again" in (await ozg("deliveries", "replay", "--all-dead", "--destination", "none")).stdout
    for line in (await ozg("payments", "list", "--json")).stdout.splitlines():
        assert json.loads(line)["transactionId"]
    assert "turned round" in (await ozg("payments", "reconciliation")).stdout
    unknown = json.loads((await ozg("cases", "trail", str(uuid.uuid4()), "--json")).stdout)
    assert "404" in unknown["submission events"]["notFound"]
