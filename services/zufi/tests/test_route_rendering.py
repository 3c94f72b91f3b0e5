"""A query no answer is kept for is answered from each route's rendered JSON, byte for byte what the
`RoutesPage` model writes, and plain queries answer exactly as FastAPI's validated path does."""

import itertools
import json
import uuid
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey

from ozg_zufi.routing.schemas import RoutesPage
from ozg_zufi.settings import ZufiSettings

AMT_SERVICE = "99050035001000"
GEMEINDE_SERVICE = "99110007000000"
KREIS_SERVICE = "99036005001000"
LAND_SERVICE = "99107002001000"
FISCHEREISCHEIN = "99088023001000"
AVERLAK = "010515163003"

_fresh = itertools.count()

ANSWERED = [
    {"leikaKey": AMT_SERVICE, "ags": "01002000"},
    {"leikaKey": KREIS_SERVICE, "ars": "01002"},
    {"leikaKey": AMT_SERVICE, "ars": AVERLAK},
    {"leikaKey": f"urn:de:fim:leika:leistung:{AMT_SERVICE}", "ars": "010515163"},
    {"leikaKey": LAND_SERVICE, "areaId": "02"},
    {"leikaKey": GEMEINDE_SERVICE, "postalCode": "25712"},
    {"leikaKey": AMT_SERVICE, "postalCode": "25767"},
    {"leikaKey": GEMEINDE_SERVICE, "ars": "01051"},
    {"leikaKey": GEMEINDE_SERVICE, "ars": "01051", "limit": "50", "offset": "100"},
    {"leikaKey": GEMEINDE_SERVICE, "ars": "01051", "limit": "500", "offset": "007"},
    {"leikaKey": GEMEINDE_SERVICE, "ars": "01051", "offset": "100000"},
    {"leikaKey": GEMEINDE_SERVICE, "ars": "01051", "limit": "1", "offset": "3"},
]

REFUSED = [
    {"leikaKey": "12345", "ars": "01"},
    {"leikaKey": "", "ars": "01"},
    {"leikaKey": "99050035001000", "ars": "0100"},
    {"leikaKey": "99050035001000", "ags": "0100200"},
    {"leikaKey": "99050035001000", "postalCode": "2410"},
    {"leikaKey": "99050035001000", "areaId": "x"},
    {"leikaKey": "99050035001000"},
    {"leikaKey": "99050035001000", "ars": "01", "ags": "01002000"},
    {"leikaKey": "99999999999999", "ars": "01"},
    {"leikaKey": "99050035001000", "ars": "019999999999"},
    {"leikaKey": "99050035001000", "ags": "01999999"},
    {"leikaKey": "99050035001000", "postalCode": "00000"},
    {"leikaKey": "99050035001000", "ars": "01", "limit": "501"},
    {"leikaKey": "99050035001000", "ars": "01", "limit": "0"},
    {"leikaKey": "99050035001000", "ars": "01", "limit": "ten"},
    {"leikaKey": "99050035001000", "ars": "01", "offset": "-1"},
    {"leikaKey": "99050035001000", "ars": "01", "offset": "1.5"},
    {"ars": "01"},
]


async def uncached(client: httpx.AsyncClient, params: dict[str, str]) -> httpx.Response:
    """The answer to `params` computed afresh: an ignored extra parameter makes the query string new."""
    return await client.get("/v1/routes", params={**params, "fresh": str(next(_fresh))})


async def validated(client: httpx.AsyncClient, params: dict[str, str]) -> httpx.Response:
    """The same query through FastAPI's parameter validation: an offset that is not plain digits."""
    offset = params.get("offset", "0")
    return await uncached(client, {**params, "offset": f" {offset}"})


@pytest.mark.parametrize("params", ANSWERED, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
async def test_an_uncached_answer_is_the_pages_model_json(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    answer = await uncached(client, params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert int(answer.headers["content-length"]) == len(answer.content)
    rendered = RoutesPage.model_validate_json(answer.content).model_dump_json(exclude_none=True)
    assert rendered.encode() == answer.content
    page = answer.json()
    assert page["count"] == len(page["routes"])
    assert page["offset"] == int(params.get("offset", "0"))
    assert (await validated(client, params)).content == answer.content
    again = await uncached(client, params)
    assert again.content == answer.content


@pytest.mark.parametrize("params", REFUSED, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
async def test_a_refused_query_answers_the_same_problem_on_every_path(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    answer = await uncached(client, params)
    assert 400 <= answer.status_code < 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= answer.headers.keys()
    through_fastapi = await validated(client, params)
    assert through_fastapi.status_code == answer.status_code
    if "offset" not in params:  # an offset of its own would be named among the invalid params
        assert through_fastapi.content == answer.content


async def test_a_changed_authority_is_rendered_afresh(
    client: httpx.AsyncClient, admin: dict[str, str], settings: ZufiSettings
) -> None:
    params = {"leikaKey": FISCHEREISCHEIN, "ars": AVERLAK}
    jwk: dict[str, Any] = RSAKey.import_key(json.loads(settings.demo_key_path.read_text())).as_dict(
        private=False
    )
    body: dict[str, Any] = {
        "name": "Fischereiamt Averlak",
        "areaId": AVERLAK,
        "destination": {
            "id": str(uuid.uuid4()),
            "url": "https://kop.example.org/fisch",
            "encryptionKey": jwk | {"kid": str(uuid.uuid4())},
        },
    }
    office = await client.post("/v1/admin/authorities", json=body, headers=admin)
    assert office.status_code == 201, office.text
    moved = await client.put(
        "/v1/admin/responsibilities",
        json={"leikaKey": FISCHEREISCHEIN, "areaId": AVERLAK, "authorityId": office.json()["id"]},
        headers=admin,
    )
    assert moved.status_code == 200, moved.text
    try:
        before = (await uncached(client, params)).json()["routes"][0]
        assert before["destinationName"] == "Fischereiamt Averlak"
        renamed = await client.put(
            f"/v1/admin/authorities/{office.json()['id']}",
            json=body | {"name": "Fischereiamt Averlak-Süd"},
            headers=admin,
        )
        assert renamed.status_code == 200, renamed.text
        after = (await uncached(client, params)).json()["routes"][0]
        assert after["destinationName"] == "Fischereiamt Averlak-Süd"
        assert after["destinationSignature"] == before["destinationSignature"]
    finally:
        removed = await client.delete(f"/v1/admin/responsibilities/{moved.json()['id']}", headers=admin)
        assert removed.status_code == 204
