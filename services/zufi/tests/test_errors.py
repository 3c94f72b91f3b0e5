"""Every bad input answers a problem naming what was wrong; clients are rate limited."""

import httpx
import pytest
from zufi_testkit import assert_problem

from ozg_testing import TestTokens, app_client
from ozg_zufi.app import create_app
from ozg_zufi.settings import ZufiSettings


@pytest.mark.parametrize(
    ("params", "slug"),
    [
        ({"leikaKey": "12345", "ars": "01"}, "invalid-leika-key"),
        ({"leikaKey": "urn:de:fim:leika:leistung:99x", "ars": "01"}, "invalid-leika-key"),
        ({"leikaKey": "99050035001000", "ars": "0100"}, "invalid-area-key"),
        ({"leikaKey": "99050035001000", "ars": "01002000000A"}, "invalid-area-key"),
        ({"leikaKey": "99050035001000", "ags": "0100200"}, "invalid-area-key"),
        ({"leikaKey": "99050035001000", "postalCode": "2410"}, "invalid-postal-code"),
        ({"leikaKey": "99050035001000", "postalCode": "24 10"}, "invalid-postal-code"),
        ({"leikaKey": "99050035001000"}, "invalid-area-query"),
        ({"leikaKey": "99050035001000", "ars": "01", "ags": "01002000"}, "invalid-area-query"),
        ({"leikaKey": "99050035001000", "ars": "01", "limit": "501"}, "bad-request"),
        ({"leikaKey": "99050035001000", "ars": "01", "offset": "-1"}, "bad-request"),
        ({"ars": "01"}, "bad-request"),
    ],
)
async def test_malformed_route_queries_are_400(
    client: httpx.AsyncClient, params: dict[str, str], slug: str
) -> None:
    assert_problem(await client.get("/v1/routes", params=params), 400, slug)


@pytest.mark.parametrize(
    ("params", "slug"),
    [
        ({"leikaKey": "99999999999999", "ars": "01"}, "service-not-found"),
        ({"leikaKey": "99050035001000", "ars": "019999999999"}, "area-not-found"),
        ({"leikaKey": "99050035001000", "ags": "01999999"}, "area-not-found"),
        ({"leikaKey": "99050035001000", "postalCode": "00000"}, "area-not-found"),
    ],
)
async def test_unknown_service_or_area_is_404_naming_which(
    client: httpx.AsyncClient, params: dict[str, str], slug: str
) -> None:
    assert_problem(await client.get("/v1/routes", params=params), 404, slug)


async def test_unknown_things_elsewhere_are_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/services/99999999999999"), 404, "service-not-found")
    assert_problem(await client.get("/v1/services/123"), 400, "invalid-leika-key")
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_problem(await client.get(f"/v1/destinations/{unknown}"), 404, "destination-not-found")
    assert_problem(await client.get("/v1/destinations/not-a-uuid"), 400, "bad-request")
    page = await client.get("/v1/routes", params={"leikaKey": "99050035001000", "ars": "010515163003"})
    destination = page.json()["routes"][0]["destinationId"]
    assert_problem(await client.get(f"/v1/destinations/{destination}/keys/nope"), 404, "key-not-found")
    assert_problem(await client.get("/v1/areas/019999999999"), 404, "area-not-found")
    assert_problem(
        await client.get("/v1/areas", params={"areaSearchexpression": "**"}), 400, "invalid-area-query"
    )


async def test_admin_api_needs_an_admin_token(client: httpx.AsyncClient, tokens: TestTokens) -> None:
    body = {"name": "x", "level": "GEMEINDE"}
    assert_problem(await client.put("/v1/admin/services/99000000000001", json=body), 401, "unauthorized")
    sender = tokens.headers("send")
    assert_problem(
        await client.put("/v1/admin/services/99000000000001", json=body, headers=sender), 403, "forbidden"
    )
    assert_problem(
        await client.put(
            "/v1/admin/services/99000000000001", json=body, headers={"Authorization": "Bearer garbage"}
        ),
        401,
        "unauthorized",
    )
    assert (await client.get("/v1/services/99000000000001")).status_code == 404


async def test_rate_limit_answers_429_with_ratelimit_headers(
    settings: ZufiSettings, tokens: TestTokens, client: httpx.AsyncClient
) -> None:
    limited = settings.model_copy(update={"rate_limit_burst": 3, "rate_limit_per_second": 0.05})
    app = create_app(limited)
    app.state.token_verifier = tokens.verifier()
    async with app_client(app) as http:
        url = "/v1/areas?areaSearchexpression=Kiel"
        answers = [await http.get(url) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
        assert answers[0].headers["RateLimit-Limit"] == "3"
        refused = await http.get(url)
        body = assert_problem(refused, 429, "rate-limited")
        assert body["title"] == "Too many requests"
        assert refused.headers["RateLimit-Remaining"] == "0"
        assert int(refused.headers["RateLimit-Reset"]) > 0
        assert refused.headers["Retry-After"] == refused.headers["RateLimit-Reset"]
        # Another client (a token subject) has its own bucket.
        other = await http.get(url, headers=tokens.headers("send", subject="another-sender"))
        assert other.status_code == 200
        # Health and metrics are never limited.
        assert (await http.get("/healthz")).status_code == 200
