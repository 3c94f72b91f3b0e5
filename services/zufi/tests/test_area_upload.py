"""POST /v1/admin/import/areas: the Gemeindeverzeichnis over HTTP, through the import-areas code."""

from pathlib import Path

import httpx

from ozg_testing import TestTokens
from ozg_zufi.settings import ZufiSettings

from .test_errors import assert_problem

AVERLAK = "010515163003"
GV_FILE = "gv-auszug.csv"
POSTAL_FILE = "plz-ort-landkreis.csv"


def parts(gemeindeverzeichnis: bytes, postal_codes: bytes) -> dict[str, tuple[str, bytes, str]]:
    return {
        "gemeindeverzeichnis": (GV_FILE, gemeindeverzeichnis, "text/csv"),
        "postalCodes": (POSTAL_FILE, postal_codes, "text/csv"),
    }


async def test_an_upload_replaces_names_at_once_and_the_original_restores_everything(
    client: httpx.AsyncClient, admin: dict[str, str], settings: ZufiSettings
) -> None:
    directory: Path = settings.area_data_dir
    original, postal = (directory / GV_FILE).read_bytes(), (directory / POSTAL_FILE).read_bytes()
    assert b",Averlak," in original
    renamed = original.replace(b",Averlak,", b",Averlak an der Elbe,")

    changed = await client.post("/v1/admin/import/areas", files=parts(renamed, postal), headers=admin)
    assert changed.status_code == 200, changed.text
    assert (await client.get(f"/v1/areas/{AVERLAK}")).json()["name"] == "Averlak an der Elbe"

    restored = await client.post("/v1/admin/import/areas", files=parts(original, postal), headers=admin)
    assert restored.json() == changed.json()
    assert restored.json()["gemeinden"] == 11_004
    assert (await client.get(f"/v1/areas/{AVERLAK}")).json()["name"] == "Averlak"
    found = await client.get("/v1/areas", params={"areaSearchexpression": "25712"})
    assert found.json()["totalCount"] == 7


async def test_bad_uploads_are_refused_and_change_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], settings: ZufiSettings, tokens: TestTokens
) -> None:
    header_only = b"satzart,textkennzeichen,land,rb,kreis,vb,gemeinde,gemeindename\n"
    postal = (settings.area_data_dir / POSTAL_FILE).read_bytes()
    url = "/v1/admin/import/areas"

    assert_problem(await client.post(url, files=parts(postal, postal)), 401, "unauthorized")
    sender = tokens.headers("send")
    assert_problem(await client.post(url, files=parts(postal, postal), headers=sender), 403, "forbidden")
    as_json = await client.post(url, json={"areas": []}, headers=admin)
    assert_problem(as_json, 415, "unsupported-media-type")
    wrong_file = assert_problem(
        await client.post(url, files=parts(postal, postal), headers=admin), 422, "invalid-import"
    )
    assert "satzart" in wrong_file["detail"]
    empty = assert_problem(
        await client.post(url, files=parts(header_only, postal), headers=admin), 422, "invalid-import"
    )
    assert "no Gemeinde" in empty["detail"]
    one_part = {"gemeindeverzeichnis": parts(header_only, postal)["gemeindeverzeichnis"]}
    missing = assert_problem(await client.post(url, files=one_part, headers=admin), 422, "invalid-import")
    assert "postalCodes" in missing["detail"]
    as_field = await client.post(
        url, data={"gemeindeverzeichnis": "x"}, files=parts(header_only, postal), headers=admin
    )
    assert "as a file" in assert_problem(as_field, 422, "invalid-import")["detail"]
    assert (await client.get(f"/v1/areas/{AVERLAK}")).json()["name"] == "Averlak"
