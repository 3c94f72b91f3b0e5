"""Route resolution on the real Gemeindeverzeichnis, one test per administrative level."""

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.errors import JoseError
from zufi_testkit import destination_claims, signed_route

from ozg_zufi.routing.signatures import RouteSigner, SignedRoute, SigningKeys, rotate_signing_key
from ozg_zufi.settings import ZufiSettings

AMT_SERVICE = "99050035001000"  # Gewerbeanmeldung (level AMT, with a fee)
GEMEINDE_SERVICE = "99110007000000"  # Hund anmelden (level GEMEINDE)
KREIS_SERVICE = "99036005001000"  # Fahrzeug zulassen (level KREIS)
LAND_SERVICE = "99107002001000"  # Berufsanerkennung (level LAND)

KIEL_ARS, KIEL_AGS = "010020000000", "01002000"
AVERLAK = "010515163003"  # in Amt Burg-St. Michaelisdonn, Kreis Dithmarschen
AMT_BURG = "010515163"
BRUNSBUETTEL = "010510011011"  # amtsfreie Stadt in Dithmarschen


async def routes(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    answer = await client.get("/v1/routes", params=params)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def only_route(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    page = await routes(client, **params)
    assert page["totalCount"] == page["count"] == len(page["routes"]) == 1, page
    return dict(page["routes"][0])


async def test_kreisfreie_stadt_does_its_own_and_the_kreis_tasks(client: httpx.AsyncClient) -> None:
    for service in (AMT_SERVICE, GEMEINDE_SERVICE, KREIS_SERVICE):
        route = await only_route(client, leikaKey=service, ags=KIEL_AGS)
        assert route["destinationName"] == "Stadtverwaltung Kiel, Landeshauptstadt"
        assert route["area"] == {"id": KIEL_ARS, "name": "Kiel, Landeshauptstadt", "type": "GEMEINDE"}
    by_ars = await only_route(client, leikaKey=KREIS_SERVICE, ars=KIEL_ARS)
    by_kreis = await only_route(client, leikaKey=KREIS_SERVICE, ars="01002")
    assert by_ars["destinationId"] == by_kreis["destinationId"]
    assert by_kreis["area"]["id"] == "01002"


async def test_gemeinde_in_an_amt_is_served_by_the_amt(client: httpx.AsyncClient) -> None:
    amt = await only_route(client, leikaKey=AMT_SERVICE, ars=AVERLAK)
    assert amt["destinationName"] == "Amt Burg-St. Michaelisdonn"
    assert amt["area"] == {"id": AVERLAK, "name": "Averlak", "type": "GEMEINDE"}
    own = await only_route(client, leikaKey=GEMEINDE_SERVICE, ars=AVERLAK)
    assert own["destinationName"] == "Gemeindeverwaltung Averlak"
    whole_amt = await only_route(client, leikaKey=AMT_SERVICE, ars=AMT_BURG)
    assert whole_amt["destinationId"] == amt["destinationId"]
    assert whole_amt["area"]["id"] == AMT_BURG


async def test_amtsfreie_gemeinde_does_the_amt_tasks_itself(client: httpx.AsyncClient) -> None:
    route = await only_route(client, leikaKey=AMT_SERVICE, ars=BRUNSBUETTEL)
    assert route["destinationName"] == "Gemeindeverwaltung Brunsbüttel, Stadt"
    assert route["address"] == {"city": "Brunsbüttel", "zip": "25541"}


async def test_kreis_service_goes_to_the_kreis(client: httpx.AsyncClient) -> None:
    route = await only_route(client, leikaKey=KREIS_SERVICE, ars=AVERLAK)
    assert route["destinationName"] == "Kreisverwaltung Dithmarschen"
    assert route["area"]["id"] == AVERLAK
    whole_kreis = await only_route(client, leikaKey=KREIS_SERVICE, ars="01051")
    assert whole_kreis["destinationId"] == route["destinationId"]


async def test_land_service_goes_to_the_land(client: httpx.AsyncClient) -> None:
    route = await only_route(client, leikaKey=LAND_SERVICE, ags="01051011")
    assert route["destinationName"] == "Landesverwaltung Schleswig-Holstein"
    hamburg = await only_route(client, leikaKey=LAND_SERVICE, ars="02")
    assert hamburg["destinationName"] == "Landesverwaltung Hamburg"


async def test_ambiguous_postal_code_answers_every_candidate_naming_its_area(
    client: httpx.AsyncClient,
) -> None:
    page = await routes(client, leikaKey=GEMEINDE_SERVICE, postalCode="25712")
    areas = [route["area"]["id"] for route in page["routes"]]
    assert page["totalCount"] == len(areas) > 1
    assert len(set(areas)) == len(areas)
    assert all(area.startswith(AMT_BURG) for area in areas)
    # The same Amt serves every Gemeinde of the postal code: one route, naming the Amt.
    amt = await only_route(client, leikaKey=AMT_SERVICE, postalCode="25712")
    assert amt["area"] == {"id": AMT_BURG, "name": "Burg-St. Michaelisdonn", "type": "GEMEINDEVERBAND"}
    # 25767 spans two Ämter in two Kreise: two routes, never a guess.
    split = await routes(client, leikaKey=AMT_SERVICE, postalCode="25767")
    assert split["totalCount"] == 2
    assert len({route["destinationId"] for route in split["routes"]}) == 2


async def test_urn_leika_key_is_accepted(client: httpx.AsyncClient) -> None:
    route = await only_route(client, leikaKey=f"urn:de:fim:leika:leistung:{AMT_SERVICE}", ars=AVERLAK)
    assert route["destinationName"] == "Amt Burg-St. Michaelisdonn"


async def test_pagination_walks_all_routes_once(client: httpx.AsyncClient) -> None:
    first = await routes(client, leikaKey=GEMEINDE_SERVICE, ars="01051", limit=50)
    total = first["totalCount"]
    assert total > 100
    assert first["count"] == 50
    assert first["offset"] == 0
    seen = [route["destinationId"] for route in first["routes"]]
    offset = 50
    while offset < total:
        page = await routes(client, leikaKey=GEMEINDE_SERVICE, ars="01051", limit=50, offset=offset)
        assert page["totalCount"] == total
        seen += [route["destinationId"] for route in page["routes"]]
        offset += 50
    assert len(seen) == len(set(seen)) == total
    beyond = await routes(client, leikaKey=GEMEINDE_SERVICE, ars="01051", offset=total)
    assert beyond["count"] == 0
    assert beyond["routes"] == []
    default = await routes(client, leikaKey=GEMEINDE_SERVICE, ars="01051")
    assert default["count"] == 100


async def test_destination_signature_verifies_with_zufis_jwks(
    client: httpx.AsyncClient, settings: ZufiSettings
) -> None:
    route = await only_route(client, leikaKey=AMT_SERVICE, ars=AVERLAK)
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert [(key["alg"], key["use"], key["key_ops"]) for key in jwks["keys"]] == [
        ("PS512", "sig", ["verify"])
    ]
    claims = destination_claims(route["destinationSignature"], jwks)
    assert claims["iss"] == settings.public_base_url
    assert claims["submissionHost"] == "127.0.0.1:8002"
    assert signed_route(claims) == (route["destinationId"], [AVERLAK], [AMT_SERVICE])
    again = await only_route(client, leikaKey=AMT_SERVICE, ars=AVERLAK, limit=99)
    assert again["destinationSignature"] == route["destinationSignature"]  # signed once per route
    header, payload, signature = route["destinationSignature"].split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged["destinationId"] = "00000000-0000-0000-0000-000000000000"
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    with pytest.raises(JoseError):
        destination_claims(f"{header}.{forged_payload}.{signature}", jwks)


def test_a_rotated_key_stays_published_so_signatures_made_before_verify(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.json"
    before = SigningKeys.load(path)
    assert before.previous is None
    issued = RouteSigner(before.current, "http://zufi", "submission", capacity=1).sign(
        SignedRoute("3fa85f64-5717-4562-b3fc-2c963f66afa6", AMT_SERVICE, AVERLAK)
    )
    rotate_signing_key(path)
    after = SigningKeys.load(path)
    assert after.previous is not None
    assert after.previous.kid == before.current.kid != after.current.kid
    published = {"keys": [key.as_dict(private=False) for key in after.published()]}
    assert signed_route(destination_claims(issued, published))[1] == [AVERLAK]
    rotate_signing_key(path)
    assert before.current.kid not in {key.kid for key in SigningKeys.load(path).published()}


async def test_destination_and_its_key_are_public(client: httpx.AsyncClient) -> None:
    route = await only_route(client, leikaKey=AMT_SERVICE, ars=AVERLAK)
    destination = (await client.get(f"/v1/destinations/{route['destinationId']}")).json()
    assert destination["status"] == "active"
    assert AMT_SERVICE in [service["leikaKey"] for service in destination["services"]]
    assert GEMEINDE_SERVICE not in [service["leikaKey"] for service in destination["services"]]
    key = await client.get(f"/v1/destinations/{route['destinationId']}/keys/{destination['encryptionKid']}")
    assert key.status_code == 200
    jwk = key.json()
    assert jwk["alg"] == "RSA-OAEP-256"
    assert jwk["key_ops"] == ["wrapKey"]
    assert "d" not in jwk
    assert len(base64.urlsafe_b64decode(jwk["n"] + "==")) * 8 >= 4096
