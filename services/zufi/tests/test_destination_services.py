"""A destination's `services` follows the catalogue and the responsibilities: in its public answer and
in the DestinationChanged events other services keep their read models from."""

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey

from ozg_zufi.settings import ZufiSettings

from .conftest import EventLog

AVERLAK, AMT_BURG, DITHMARSCHEN = "010515163003", "010515163", "01051"
KIEL = "010020000000"


async def synced(client: httpx.AsyncClient, admin: dict[str, str], within: float = 60) -> dict[str, Any]:
    """Wait until the background job has brought every destination's services up to date."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        answer = await client.get("/v1/admin/services/destination-sync", headers=admin)
        assert answer.status_code == 200, answer.text
        if answer.json()["state"] == "idle":
            return dict(answer.json())
        await asyncio.sleep(0.1)
    raise AssertionError(f"destination services not synced within {within}s")


async def offered(client: httpx.AsyncClient, destination_id: str) -> list[str]:
    answer = await client.get(f"/v1/destinations/{destination_id}")
    assert answer.status_code == 200, answer.text
    services = answer.json()["services"]
    assert all(s["identifier"] == f"urn:de:fim:leika:leistung:{s['leikaKey']}" for s in services)
    return [s["leikaKey"] for s in services]


async def destination_of(client: httpx.AsyncClient, service: str, ars: str) -> str:
    answer = await client.get("/v1/routes", params={"leikaKey": service, "ars": ars})
    assert answer.status_code == 200, answer.text
    (route,) = answer.json()["routes"]
    return str(route["destinationId"])


async def announced(events: EventLog, destination_id: str, service: str, *, offered: bool) -> None:
    """The newest DestinationChanged of the destination (what a read model ends with) does (not)
    name `service`."""
    newest: dict[str, Any] | None = None
    for _ in range(300):
        changes = [e for kind, e in events.events if kind == "de.ozg-router.destination.changed"]
        newest = next((e for e in reversed(changes) if e["destination_id"] == destination_id), None)
        if newest is not None and (service in newest["services"]) == offered:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the newest event of {destination_id} says {newest}")


async def new_service(
    client: httpx.AsyncClient, admin: dict[str, str], key: str, name: str, level: str
) -> None:
    created = await client.put(
        f"/v1/admin/services/{key}", json={"name": name, "level": level}, headers=admin
    )
    assert created.status_code == 200, created.text


async def new_office(
    client: httpx.AsyncClient, admin: dict[str, str], name: str, destination: dict[str, Any]
) -> dict[str, Any]:
    """An administered authority for the Amt Burg with its destination, as the admin API answers it."""
    office = await client.post(
        "/v1/admin/authorities",
        json={"name": name, "areaId": AMT_BURG, "destination": destination},
        headers=admin,
    )
    assert office.status_code == 201, office.text
    return dict(office.json())


async def make_responsible(
    client: httpx.AsyncClient, admin: dict[str, str], key: str, area: str, authority_id: str
) -> str:
    """Names the authority for the service in the area; returns the responsibility's id."""
    answer = await client.put(
        "/v1/admin/responsibilities",
        json={"leikaKey": key, "areaId": area, "authorityId": authority_id},
        headers=admin,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


async def remove_responsibility(
    client: httpx.AsyncClient, admin: dict[str, str], responsibility: str
) -> None:
    removed = await client.delete(f"/v1/admin/responsibilities/{responsibility}", headers=admin)
    assert removed.status_code == 204


async def administered(client: httpx.AsyncClient, admin: dict[str, str], authority_id: str) -> dict[str, Any]:
    """The authority's destination as its administrator sees it."""
    shown = await client.get(f"/v1/admin/authorities/{authority_id}", headers=admin)
    assert shown.status_code == 200, shown.text
    return dict(shown.json()["destination"])


async def test_the_sync_status_is_for_administrators(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/admin/services/destination-sync")
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


async def test_a_new_gemeinde_service_is_offered_by_each_gemeinde_and_withdrawn_when_deactivated(
    client: httpx.AsyncClient, admin: dict[str, str], events: EventLog
) -> None:
    key = "99123400000011"
    await new_service(client, admin, key, "Baumfällung anzeigen", "GEMEINDE")
    averlak = await destination_of(client, key, AVERLAK)
    kiel = await destination_of(client, key, KIEL)
    kreis = await destination_of(client, "99036005001000", AVERLAK)  # Kreisverwaltung Dithmarschen

    status = await synced(client, admin)
    assert status["last"]["error"] is None
    assert key in await offered(client, averlak)
    assert key in await offered(client, kiel)
    assert key not in await offered(client, kreis)
    await announced(events, averlak, key, offered=True)
    await announced(events, kiel, key, offered=True)

    withdrawn = await client.delete(f"/v1/admin/services/{key}", headers=admin)
    assert withdrawn.status_code == 200, withdrawn.text
    await synced(client, admin)
    assert key not in await offered(client, averlak)
    assert "99110007000000" in await offered(client, averlak)  # its other services stay
    await announced(events, averlak, key, offered=False)


@pytest.fixture(scope="module")
def public_jwk(settings: ZufiSettings) -> dict[str, Any]:
    key = RSAKey.import_key(json.loads(settings.demo_key_path.read_text()))
    return key.as_dict(private=False) | {"kid": f"test-{uuid.uuid4()}"}


async def test_responsibilities_move_the_offer_to_the_authority_named(
    client: httpx.AsyncClient, admin: dict[str, str], events: EventLog, public_jwk: dict[str, Any]
) -> None:
    key = "99123400000012"
    await new_service(client, admin, key, "Jagdschein verlängern", "KREIS")
    kreis = await destination_of(client, key, AVERLAK)
    office = await new_office(
        client,
        admin,
        "Untere Jagdbehörde Burg",
        {"url": "https://kop.example.org/jagd", "encryptionKey": public_jwk},
    )
    office_destination = office["destination"]["id"]
    assert office["destination"]["services"] == []

    # The Amt's Gemeinden: the new office; every other Gemeinde of the Kreis: still the Kreis.
    amt = await make_responsible(client, admin, key, AMT_BURG, office["id"])
    await synced(client, admin)
    assert key in await offered(client, office_destination)
    assert key in await offered(client, kreis)
    await announced(events, office_destination, key, offered=True)

    # The whole Kreis: the Kreisverwaltung no longer does it, so it no longer offers it.
    whole = await make_responsible(client, admin, key, DITHMARSCHEN, office["id"])
    await synced(client, admin)
    assert key not in await offered(client, kreis)
    await announced(events, kreis, key, offered=False)

    for responsibility in (whole, amt):
        await remove_responsibility(client, admin, responsibility)
    await synced(client, admin)
    assert key in await offered(client, kreis)
    await announced(events, kreis, key, offered=True)
    # Routing no longer sends it to the office: the office no longer offers it, as it never declared it.
    assert key not in await offered(client, office_destination)
    await announced(events, office_destination, key, offered=False)
    shown = await administered(client, admin, office["id"])
    assert shown["services"] == []
    assert key not in shown["offeredServices"]


async def test_a_declared_service_stays_offered_when_routing_moves_away(
    client: httpx.AsyncClient, admin: dict[str, str], events: EventLog, public_jwk: dict[str, Any]
) -> None:
    key = "99123400000013"
    await new_service(client, admin, key, "Fischereischein", "KREIS")
    declared = {"url": "https://kop.example.org/fisch", "encryptionKey": public_jwk, "services": [key]}
    office = await new_office(client, admin, "Fischereiaufsicht Burg", declared)
    office_destination = office["destination"]["id"]
    amt = await make_responsible(client, admin, key, AMT_BURG, office["id"])
    await synced(client, admin)
    await remove_responsibility(client, admin, amt)
    await synced(client, admin)
    # Its administrator declared it: only the administrator takes it away.
    assert key in await offered(client, office_destination)
    await announced(events, office_destination, key, offered=True)
    shown = await administered(client, admin, office["id"])
    assert shown["services"] == [key]
    assert shown["offeredServices"] == [key]
