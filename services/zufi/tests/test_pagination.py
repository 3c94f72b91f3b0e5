"""Every paginated list takes offset 0 to 2^31-1 and limit 1 to 500; anything else is a 400 problem."""

import httpx
import pytest
from zufi_testkit import assert_problem

LISTS = [
    ("/v1/routes", {"leikaKey": "99050035001000", "ars": "01"}, False),
    ("/v1/areas", {"areaSearchexpression": "Kiel"}, False),
    ("/v1/services", {}, False),
    ("/v1/admin/responsibilities", {}, True),
]
TOO_BIG = "478775936485137448960"


@pytest.fixture(params=["client", "sqlite_client"], ids=["postgresql", "sqlite"])
def any_client(request: pytest.FixtureRequest) -> httpx.AsyncClient:
    """zufi on PostgreSQL, then on SQLite (each started only when a test needs it)."""
    http: httpx.AsyncClient = request.getfixturevalue(request.param)
    return http


@pytest.mark.parametrize(("path", "params", "admin_only"), LISTS)
@pytest.mark.parametrize(
    "bounds",
    [
        {"offset": TOO_BIG},
        {"offset": "2147483648"},
        {"offset": "-1"},
        {"offset": "1e3"},
        {"limit": "0"},
        {"limit": "501"},
        {"limit": TOO_BIG},
    ],
)
async def test_offset_and_limit_beyond_the_bounds_are_400(
    any_client: httpx.AsyncClient,
    admin: dict[str, str],
    path: str,
    params: dict[str, str],
    admin_only: bool,
    bounds: dict[str, str],
) -> None:
    answer = await any_client.get(path, params=params | bounds, headers=admin if admin_only else {})
    body = assert_problem(answer, 400, "bad-request")
    assert [param["name"] for param in body["invalid_params"]] == list(bounds)


@pytest.mark.parametrize(("path", "params", "admin_only"), LISTS)
async def test_the_largest_offset_answers_an_empty_page(
    any_client: httpx.AsyncClient,
    admin: dict[str, str],
    path: str,
    params: dict[str, str],
    admin_only: bool,
) -> None:
    answer = await any_client.get(
        path, params=params | {"offset": "2147483647", "limit": "500"}, headers=admin if admin_only else {}
    )
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert page["offset"] == 2147483647
    assert page["count"] == 0
    assert 0 <= page["totalCount"] < 2147483647
