"""Area search and the area import."""

import time

import httpx
import pytest
from sqlalchemy import func, select

from ozg_common.db import Database
from ozg_zufi.__main__ import run_import
from ozg_zufi.models import Area, PostalCode
from ozg_zufi.settings import ZufiSettings


async def search(client: httpx.AsyncClient, expression: str, **params: int) -> dict[str, object]:
    answer = await client.get("/v1/areas", params={"areaSearchexpression": expression, **params})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.mark.parametrize("spelling", ["Lübeck", "LÜBECK", "luebeck", "Lubeck", "lübeck, hansestadt"])
async def test_names_match_whatever_the_case_and_umlauts(client: httpx.AsyncClient, spelling: str) -> None:
    found = await search(client, spelling)
    assert {area["id"] for area in found["areas"]} == {"01003", "010030000", "010030000000"}  # type: ignore[attr-defined]


async def test_wildcards_and_pagination(client: httpx.AsyncClient) -> None:
    first = await search(client, "Neu*", limit=20)
    total = first["totalCount"]
    assert isinstance(total, int)
    assert total > 20
    assert first["count"] == 20
    second = await search(client, "neu*", limit=20, offset=20)
    assert second["totalCount"] == total
    ids = [a["id"] for a in first["areas"]] + [a["id"] for a in second["areas"]]  # type: ignore[attr-defined]
    assert len(set(ids)) == 40
    middle = await search(client, "*michaelisdonn")
    assert "010515163" in [a["id"] for a in middle["areas"]]  # type: ignore[attr-defined]


async def test_postal_code_search_finds_every_gemeinde_of_the_code(client: httpx.AsyncClient) -> None:
    found = await search(client, "25712")
    assert found["totalCount"] == 7
    assert all(area["type"] == "GEMEINDE" for area in found["areas"])  # type: ignore[attr-defined]
    prefix = await search(client, "2571*")
    assert isinstance(prefix["totalCount"], int)
    assert prefix["totalCount"] > 7
    kiel = (await client.get("/v1/areas/010020000000")).json()
    assert kiel == {
        "id": "010020000000",
        "name": "Kiel, Landeshauptstadt",
        "type": "GEMEINDE",
        "ags": "01002000",
        "kind": "kreisfreie Stadt",
        "parentId": "010020000",
    }


async def test_reimport_is_idempotent_and_fast(settings: ZufiSettings, client: httpx.AsyncClient) -> None:
    database = Database(settings.database_location)

    async def counts() -> tuple[int, int, int]:
        async with database.transaction() as session:
            areas = await session.scalar(select(func.count()).select_from(Area))
            gemeinden = await session.scalar(select(func.count()).where(Area.type == "GEMEINDE"))
            codes = await session.scalar(select(func.count()).select_from(PostalCode))
        return int(areas or 0), int(gemeinden or 0), int(codes or 0)

    before = await counts()
    started = time.monotonic()
    result = await run_import(settings, settings.area_data_dir)
    elapsed = time.monotonic() - started
    after = await counts()
    await database.dispose()
    assert before == after
    assert after[1] == 11_004
    assert result["areas"] == after[0]
    assert result["postal_codes"] == after[2]
    assert elapsed < 15, f"re-import took {elapsed:.1f}s"
    route = await client.get("/v1/routes", params={"leikaKey": "99050035001000", "ags": "01002000"})
    assert route.json()["totalCount"] == 1
