"""Conformance with FITKO's Routing API 2.0.0: every answer of /v1/routes, /v1/areas and /v1/info is
validated against routing-api.yaml (openapi-core), every destinationSignature checked claim by claim."""

from typing import Any

import httpx
import pytest
from zufi_testkit import assert_problem, assert_routing_api_answer, destination_claims, signed_route

AMT_SERVICE = "99050035001000"  # Gewerbeanmeldung (level AMT)
GEMEINDE_SERVICE = "99110007000000"  # Hund anmelden (level GEMEINDE)
KREIS_SERVICE = "99036005001000"  # Fahrzeug zulassen (level KREIS)
LAND_SERVICE = "99107002001000"  # Berufsanerkennung (level LAND)

KIEL_ARS, KIEL_AGS = "010020000000", "01002000"
AVERLAK = "010515163003"  # in Amt Burg-St. Michaelisdonn, Kreis Dithmarschen
AMT_BURG = "010515163"
BRUNSBUETTEL = "010510011011"  # amtsfreie Stadt in Dithmarschen

LOOKUPS = [
    pytest.param({"leikaKey": LAND_SERVICE, "ars": "01"}, id="land"),
    pytest.param({"leikaKey": LAND_SERVICE, "ags": "01"}, id="land-by-ags"),
    pytest.param({"leikaKey": KREIS_SERVICE, "ars": "01051"}, id="kreis"),
    pytest.param({"leikaKey": KREIS_SERVICE, "ags": "01051"}, id="kreis-by-ags"),
    pytest.param({"leikaKey": AMT_SERVICE, "ars": AMT_BURG}, id="amt"),
    pytest.param({"leikaKey": AMT_SERVICE, "ars": AVERLAK}, id="gemeinde-in-an-amt"),
    pytest.param({"leikaKey": AMT_SERVICE, "ars": BRUNSBUETTEL}, id="amtsfreie-gemeinde"),
    pytest.param({"leikaKey": KREIS_SERVICE, "ags": KIEL_AGS}, id="kreisfreie-stadt"),
    pytest.param({"leikaKey": GEMEINDE_SERVICE, "ars": KIEL_ARS}, id="kreisfreie-stadt-gemeinde-service"),
    pytest.param({"leikaKey": GEMEINDE_SERVICE, "postalCode": "25712"}, id="ambiguous-postal-code"),
    pytest.param({"leikaKey": AMT_SERVICE, "postalCode": "25767"}, id="postal-code-in-two-aemter"),
    pytest.param({"leikaKey": GEMEINDE_SERVICE, "ars": "01051", "limit": "1"}, id="first-of-many"),
    pytest.param({"leikaKey": GEMEINDE_SERVICE, "ars": "01051", "limit": "500"}, id="largest-page"),
    pytest.param({"leikaKey": GEMEINDE_SERVICE, "ars": "01051", "offset": "100", "limit": "7"}, id="middle"),
    pytest.param({"leikaKey": GEMEINDE_SERVICE, "ars": "01051", "offset": "2147483647"}, id="beyond-the-end"),
]


async def conformant_routes(client: httpx.AsyncClient, params: dict[str, str]) -> dict[str, Any]:
    """The page answered for `params`, validated against routing-api.yaml, its signatures checked."""
    answer = await client.get("/v1/routes", params=params)
    assert answer.status_code == 200, answer.text
    assert_routing_api_answer(answer)
    page: dict[str, Any] = answer.json()
    assert page["count"] == len(page["routes"]) <= int(params.get("limit", 100))
    assert page["offset"] == int(params.get("offset", 0))
    jwks = (await client.get("/.well-known/jwks.json")).json()
    for route in page["routes"]:
        claims = destination_claims(route["destinationSignature"], jwks)
        destination_id, areas, leika_keys = signed_route(claims)
        assert destination_id == route["destinationId"]
        assert leika_keys == [params["leikaKey"]]
        assert areas == [route["area"]["id"]]
    return page


@pytest.mark.parametrize("params", LOOKUPS)
async def test_routes_answer_routing_api_shapes_with_fitko_signatures(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    page = await conformant_routes(client, params)
    if params.get("offset") == "2147483647":
        assert page["routes"] == []
    else:
        assert page["routes"]


async def test_a_route_answers_the_service_texts_and_the_authority_links(client: httpx.AsyncClient) -> None:
    [route] = (await conformant_routes(client, {"leikaKey": AMT_SERVICE, "ars": AVERLAK}))["routes"]
    assert route["destinationName"] == "Amt Burg-St. Michaelisdonn"
    for text in ("requiredDocuments", "legalBasis", "deadline"):
        assert route[text]["description"]["de"].startswith("<p>"), route
    assert route["legalBasis"]["description"] == {"de": "<p>§ 14 Gewerbeordnung (GewO)</p>"}
    assert route["processingDuration"] == {"minDuration": 1, "maxDuration": 3, "unit": "workday"}
    for link in ("destinationLogo", "privacyPolicyUrl", "imprintUrl", "accessibilityUrl", "contactFormUrl"):
        assert route[link].startswith("https://"), route
    assert route["address"]["city"] == "Burg-St. Michaelisdonn"
    assert route["contactPersons"][0]["email"].startswith("buergerservice-")


async def test_routes_of_an_administered_authority_answer_what_the_admin_wrote(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    service = {
        "name": "Sondernutzung beantragen",
        "level": "GEMEINDE",
        "requiredDocuments": {"de": "<p>Lageplan</p>", "en": "<p>Site plan</p>"},
        "legalBasis": {"de": "<p>Straßen- und Wegegesetz</p>"},
        "deadline": {"de": "<p>Zwei Wochen vorher.</p>"},
        "processingDuration": {"minDuration": 2, "maxDuration": 4, "unit": "week"},
    }
    leika_key = "99000000000918"
    answer = await client.put(f"/v1/admin/services/{leika_key}", json=service, headers=admin)
    assert answer.status_code in (200, 201), answer.text
    [route] = (await conformant_routes(client, {"leikaKey": leika_key, "ars": AVERLAK}))["routes"]
    assert route["requiredDocuments"] == {"description": {"de": "<p>Lageplan</p>", "en": "<p>Site plan</p>"}}
    assert route["processingDuration"] == {"minDuration": 2, "maxDuration": 4, "unit": "week"}
    shown = (await client.get(f"/v1/services/{leika_key}")).json()
    assert shown["legalBasis"] == {"de": "<p>Straßen- und Wegegesetz</p>"}


@pytest.mark.parametrize(
    "body",
    [
        {"requiredDocuments": {"en": "<p>only English</p>"}},
        {"legalBasis": {"deutsch": "x"}},
        {"processingDuration": {"minDuration": 5, "maxDuration": 1, "unit": "day"}},
        {"processingDuration": {"minDuration": 1, "unit": "fortnight"}},
        {"processingDuration": {"minDuration": -1}},
    ],
)
async def test_service_texts_are_checked(
    client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, Any]
) -> None:
    service = {"name": "Sondernutzung", "level": "GEMEINDE"} | body
    answer = await client.put("/v1/admin/services/99000000000919", json=service, headers=admin)
    assert_problem(answer, 422, "unprocessable-entity")


@pytest.mark.parametrize(
    "terms",
    [
        ["Kiel"],
        ["Mag*"],
        ["241*"],
        ["*dorf", "24*"],
        ["Burg", "25712"],
        ["Ki*"] * 10,
        ["Nirgendwo"],
    ],
)
async def test_areas_answer_routing_api_shapes(client: httpx.AsyncClient, terms: list[str]) -> None:
    answer = await client.get("/v1/areas", params={"areaSearchexpression": terms, "limit": "20"})
    assert answer.status_code == 200, answer.text
    assert_routing_api_answer(answer)
    page = answer.json()
    assert page["count"] == len(page["areas"]) <= 20


async def test_every_term_narrows_the_area_search(client: httpx.AsyncClient) -> None:
    burg = (await client.get("/v1/areas", params={"areaSearchexpression": "Burg*", "limit": 500})).json()
    both = await client.get("/v1/areas", params={"areaSearchexpression": ["Burg*", "25712"], "limit": 500})
    assert_routing_api_answer(both)
    narrowed = both.json()
    assert 0 < narrowed["totalCount"] < burg["totalCount"]
    assert {area["id"] for area in narrowed["areas"]} <= {area["id"] for area in burg["areas"]}


async def test_info_names_the_routing_api_version(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/info")
    assert answer.status_code == 200
    assert_routing_api_answer(answer)
    assert answer.json() == {"version": {"major": 2, "minor": 0, "patch": 0}}


async def test_a_well_formed_key_of_no_area_is_not_found(client: httpx.AsyncClient) -> None:
    # Schleswig-Holstein has no Regierungsbezirk: 010 is a well-formed AGS of none.
    answer = await client.get("/v1/routes", params={"leikaKey": KREIS_SERVICE, "ags": "010"})
    assert_problem(answer, 404, "area-not-found")


@pytest.mark.parametrize(
    ("path", "params", "slug"),
    [
        ("/v1/routes", {"leikaKey": "9905003500100", "ars": "01"}, "invalid-leika-key"),
        ("/v1/routes", {"leikaKey": "88050035001000", "ars": "01"}, "invalid-leika-key"),
        ("/v1/routes", {"leikaKey": AMT_SERVICE, "ars": "0105"}, "invalid-area-key"),
        ("/v1/routes", {"leikaKey": AMT_SERVICE, "ars": "0105151630031"}, "invalid-area-key"),
        ("/v1/routes", {"leikaKey": AMT_SERVICE, "ags": "0"}, "invalid-area-key"),
        ("/v1/routes", {"leikaKey": AMT_SERVICE, "ags": "0105"}, "invalid-area-key"),
        ("/v1/routes", {"leikaKey": AMT_SERVICE, "ags": "010510"}, "invalid-area-key"),
        ("/v1/routes", {"leikaKey": AMT_SERVICE, "ags": "0105101"}, "invalid-area-key"),
        ("/v1/routes", {"leikaKey": AMT_SERVICE, "ags": "010510111"}, "invalid-area-key"),
        ("/v1/routes", {"leikaKey": AMT_SERVICE, "ags": KIEL_AGS, "offset": "9" * 40}, "bad-request"),
        ("/v1/routes", {"leikaKey": AMT_SERVICE, "ags": KIEL_AGS, "limit": "0"}, "bad-request"),
        ("/v1/routes", {"leikaKey": AMT_SERVICE, "ags": KIEL_AGS, "limit": "501"}, "bad-request"),
        ("/v1/areas", {"areaSearchexpression": ["Kiel"] * 11}, "invalid-area-query"),
        ("/v1/areas", {"areaSearchexpression": "K"}, "invalid-area-query"),
        ("/v1/areas", {"areaSearchexpression": ["Kiel", "*a*"]}, "invalid-area-query"),
        ("/v1/areas", {"areaSearchexpression": "Kiel", "offset": "-1"}, "bad-request"),
        ("/v1/areas", {"areaSearchexpression": "Kiel", "limit": "9" * 30}, "bad-request"),
        ("/v1/areas", {}, "bad-request"),
    ],
)
async def test_malformed_parameters_answer_a_routing_api_problem(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], slug: str
) -> None:
    answer = await client.get(path, params=params)
    assert_problem(answer, 400, slug)
    assert_routing_api_answer(answer)
