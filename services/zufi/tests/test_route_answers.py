"""A repeated route query is answered from the kept answer: the same bytes and headers, never stale."""

import json
import uuid
from typing import Any

import httpx
from joserfc.jwk import RSAKey

from ozg_zufi.settings import ZufiSettings

FISCHEREISCHEIN = "99088023001000"  # level KREIS
BRUNSBUETTEL = "010510011011"


async def test_a_repeated_query_gets_the_same_answer_with_its_own_rate_limit_headers(
    client: httpx.AsyncClient,
) -> None:
    params = {"leikaKey": FISCHEREISCHEIN, "ars": BRUNSBUETTEL, "limit": "7"}
    first, again = [await client.get("/v1/routes", params=params) for _ in range(2)]
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    for header in ("content-type", "content-length"):
        assert again.headers[header] == first.headers[header]
    assert first.headers["content-type"] == "application/json"
    for answer in (first, again):
        assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= answer.headers.keys()


async def test_errors_are_answered_afresh_each_time(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        answer = await client.get("/v1/routes", params={"leikaKey": "99x", "ars": BRUNSBUETTEL})
        assert answer.status_code == 400
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"].endswith("/invalid-leika-key")


async def test_an_admin_change_is_answered_at_once(
    client: httpx.AsyncClient, admin: dict[str, str], settings: ZufiSettings
) -> None:
    params = {"leikaKey": FISCHEREISCHEIN, "ars": BRUNSBUETTEL}
    before = (await client.get("/v1/routes", params=params)).json()["routes"][0]
    assert before["destinationName"] == "Kreisverwaltung Dithmarschen"

    jwk: dict[str, Any] = RSAKey.import_key(json.loads(settings.demo_key_path.read_text())).as_dict(
        private=False
    )
    office = await client.post(
        "/v1/admin/authorities",
        json={
            "name": "Fischereiamt Brunsbüttel",
            "areaId": BRUNSBUETTEL,
            "destination": {
                "url": "https://kop.example.org/fisch",
                "encryptionKey": jwk | {"kid": str(uuid.uuid4())},
            },
        },
        headers=admin,
    )
    assert office.status_code == 201, office.text
    moved = await client.put(
        "/v1/admin/responsibilities",
        json={"leikaKey": FISCHEREISCHEIN, "areaId": BRUNSBUETTEL, "authorityId": office.json()["id"]},
        headers=admin,
    )
    assert moved.status_code == 200, moved.text
    after = (await client.get("/v1/routes", params=params)).json()["routes"][0]
    assert after["destinationName"] == "Fischereiamt Brunsbüttel"

    removed = await client.delete(f"/v1/admin/responsibilities/{moved.json()['id']}", headers=admin)
    assert removed.status_code == 204
    assert (await client.get("/v1/routes", params=params)).json()["routes"][0] == before
