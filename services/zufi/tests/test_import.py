"""Bulk import from JSON and CSV: all or nothing, with events."""

import csv
import io
import json
import uuid
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey

from ozg_zufi.settings import ZufiSettings

from .conftest import EventLog

AVERLAK = "010515163003"


@pytest.fixture(scope="module")
def public_jwk(settings: ZufiSettings) -> dict[str, Any]:
    key = RSAKey.import_key(json.loads(settings.demo_key_path.read_text()))
    return key.as_dict(private=False) | {"kid": "bulk-key"}


async def test_json_bundle_imports_everything_in_order(
    client: httpx.AsyncClient, admin: dict[str, str], public_jwk: dict[str, Any], events: EventLog
) -> None:
    authority_id = str(uuid.uuid4())
    bundle = {
        "services": [{"leikaKey": "99000000000010", "name": "Bulk-Leistung", "level": "GEMEINDE"}],
        "authorities": [
            {
                "id": authority_id,
                "name": "Bulk-Behörde",
                "areaId": AVERLAK,
                "destination": {
                    "url": "https://bulk.example.org/kop",
                    "encryptionKey": public_jwk,
                    "services": ["99000000000010"],
                },
            }
        ],
        "responsibilities": [{"leikaKey": "99000000000010", "areaId": "01051", "authorityId": authority_id}],
    }
    answer = await client.post("/v1/admin/import", json=bundle, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"services": 1, "authorities": 1, "responsibilities": 1}
    routes = await client.get("/v1/routes", params={"leikaKey": "99000000000010", "ars": AVERLAK})
    assert routes.json()["routes"][0]["destinationName"] == "Bulk-Behörde"
    await events.wait_for("destination.changed", lambda e: e["authority_id"] == authority_id)
    await events.wait_for("responsibility.changed", lambda e: e["authority_id"] == authority_id)


async def test_csv_imports_one_kind(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    fees = '"[{""id"": ""a"", ""description"": ""Gebühr"", ""price"": ""5.00""}]"'
    csv_text = (
        "leikaKey,name,level,paymentRequired,fees\n"
        f"99000000000011,CSV-Leistung A,KREIS,true,{fees}\n"
        "99000000000012,CSV-Leistung B,LAND,false,\n"
    )
    answer = await client.post(
        "/v1/admin/import?kind=services",
        content=csv_text.encode(),
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["services"] == 2
    fetched = (await client.get("/v1/services/99000000000011")).json()
    assert fetched["paymentRequired"] is True
    assert fetched["fees"][0]["price"] == "5.00"


async def test_one_bad_record_imports_nothing(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    bundle = {
        "services": [{"leikaKey": "99000000000013", "name": "Wird nicht gespeichert", "level": "AMT"}],
        "responsibilities": [
            {"leikaKey": "99000000000013", "areaId": AVERLAK, "authorityId": str(uuid.uuid4())}
        ],
    }
    answer = await client.post("/v1/admin/import", json=bundle, headers=admin)
    assert answer.status_code == 422
    assert answer.json()["type"].endswith("/invalid-import")
    assert answer.json()["invalid_params"][0]["name"] == "responsibilities.0"
    assert (await client.get("/v1/services/99000000000013")).status_code == 404

    malformed = await client.post(
        "/v1/admin/import", json={"services": [{"leikaKey": "x", "level": "DORF"}]}, headers=admin
    )
    assert malformed.status_code == 422
    assert {p["name"] for p in malformed.json()["invalid_params"]} >= {"services.0.level", "services.0.name"}
    wrong_type = await client.post(
        "/v1/admin/import", content=b"<x/>", headers={**admin, "Content-Type": "application/xml"}
    )
    assert wrong_type.status_code == 415
    no_kind = await client.post(
        "/v1/admin/import", content=b"a,b\n", headers={**admin, "Content-Type": "text/csv"}
    )
    assert no_kind.status_code == 422


async def test_csv_authorities_name_their_metadata_versions(
    client: httpx.AsyncClient, admin: dict[str, str], public_jwk: dict[str, Any], events: EventLog
) -> None:
    named, unnamed = str(uuid.uuid4()), str(uuid.uuid4())
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["id", "name", "areaId", "url", "encryptionKey", "metadataVersions"])
    key = json.dumps(public_jwk | {"kid": "bulk-key-csv"})
    writer.writerow([named, "CSV-Behörde alt", AVERLAK, "https://alt.example.org/kop", key, "1.0.0"])
    writer.writerow([unnamed, "CSV-Behörde neu", AVERLAK, "https://neu.example.org/kop", key, ""])
    answer = await client.post(
        "/v1/admin/import?kind=authorities",
        content=rows.getvalue().encode(),
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    old = await events.wait_for("destination.changed", lambda e: e["authority_id"] == named)
    assert old["metadata_versions"] == ["1.0.0"]
    new = await events.wait_for("destination.changed", lambda e: e["authority_id"] == unnamed)
    assert new["metadata_versions"] == ["2.1.0", "1.0.0"], "an empty cell: the default versions"
