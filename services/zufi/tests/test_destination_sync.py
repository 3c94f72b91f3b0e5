"""Two replicas on one database: every admin change reaches both indexes, is recomputed once, by one
of them, and leaves no reload or recompute behind (the job's own writes are no change of routing)."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from ozg_common.db import lock_key
from ozg_testing import TestTokens, app_client
from ozg_zufi.app import create_app
from ozg_zufi.catalogue.offers import RUN_LOCK
from ozg_zufi.settings import ZufiSettings

from .test_destination_services import offered, synced

AVERLAK, AMT_BURG, DITHMARSCHEN = "010515163003", "010515163", "01051"
KREIS_SERVICE = "99036005001000"  # demo catalogue, level KREIS: the Kreisverwaltung does it
AMT_SERVICE = "99050035001000"  # demo catalogue, level AMT: the Amt does it


@dataclass
class Replica:
    name: str
    http: httpx.AsyncClient

    async def counters(self) -> dict[str, float]:
        """This replica's index reloads and recompute runs by outcome, as /metrics tells them."""
        answer = await self.http.get("/metrics")
        assert answer.status_code == 200
        counts: dict[str, float] = {}
        for family in text_string_to_metric_families(answer.text):
            for sample in family.samples:
                if sample.name == "zufi_routing_index_reloads_total":
                    counts["reloads"] = sample.value
                elif sample.name == "zufi_destination_sync_runs_total":
                    counts[sample.labels["outcome"]] = sample.value
        return counts

    async def status(self, admin: dict[str, str]) -> dict[str, Any]:
        answer = await self.http.get("/v1/admin/services/destination-sync", headers=admin)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def quiet(self, admin: dict[str, str], interval: float) -> dict[str, float]:
        """Wait until nothing is queued and no reload or run happened for three refresh intervals."""
        counters = await self.counters()
        calm = 0
        for _ in range(200):
            await asyncio.sleep(interval)
            now = await self.counters()
            status = await self.status(admin)
            calm = calm + 1 if now == counters and status["state"] == "idle" else 0
            if calm == 3:
                return now
            counters = now
        raise AssertionError(f"{self.name} never came to rest: {counters}")


@pytest.fixture(scope="module")
async def replicas(
    client: httpx.AsyncClient, settings: ZufiSettings, tokens: TestTokens
) -> AsyncIterator[list[Replica]]:
    """The session's app and a second one on the same database and topics."""
    app = create_app(settings.model_copy())
    app.state.token_verifier = tokens.verifier()
    async with app_client(app) as second:
        yield [Replica("first", client), Replica("second", second)]


@pytest.fixture(scope="module")
def public_jwk(settings: ZufiSettings) -> dict[str, Any]:
    key = RSAKey.import_key(json.loads(settings.demo_key_path.read_text()))
    return key.as_dict(private=False) | {"kid": f"test-{uuid.uuid4()}"}


async def all_quiet(
    replicas: list[Replica], admin: dict[str, str], interval: float
) -> list[dict[str, float]]:
    return list(await asyncio.gather(*(replica.quiet(admin, interval) for replica in replicas)))


async def changed_once(
    replicas: list[Replica],
    admin: dict[str, str],
    settings: ZufiSettings,
    change: Callable[[], Awaitable[None]],
    seen: Callable[[Replica], Awaitable[bool]],
) -> None:
    """`change` reaches every replica (`seen`), one of them recomputes, and then all is quiet."""
    interval = settings.index_refresh_interval
    before = [await replica.counters() for replica in replicas]
    await change()
    for replica in replicas:
        for _ in range(100):
            if await seen(replica):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"{replica.name} did not follow the change")
    after = await all_quiet(replicas, admin, interval)
    for replica, old, new in zip(replicas, before, after, strict=True):
        assert new["reloads"] - old["reloads"] <= 1, (replica.name, old, new)
        assert new["failed"] == old["failed"], (replica.name, old, new)
    recomputed = sum(new["recomputed"] - old["recomputed"] for old, new in zip(before, after, strict=True))
    assert recomputed == 1, (before, after)
    for replica in replicas:
        status = await replica.status(admin)
        assert (status["state"], status["pendingServices"], status["waitingForAnotherReplica"]) == (
            "idle",
            [],
            False,
        ), status


async def route_destinations(replica: Replica, leika_key: str, ars: str) -> list[str]:
    answer = await replica.http.get("/v1/routes", params={"leikaKey": leika_key, "ars": ars})
    if answer.status_code == 404:
        return []
    assert answer.status_code == 200, answer.text
    return [route["destinationId"] for route in answer.json()["routes"]]


async def test_each_admin_change_reaches_every_replica_and_is_recomputed_once(
    replicas: list[Replica], admin: dict[str, str], settings: ZufiSettings, public_jwk: dict[str, Any]
) -> None:
    first, _second = replicas
    key = "99123400000013"
    office, office_destination = str(uuid.uuid4()), str(uuid.uuid4())
    await all_quiet(replicas, admin, settings.index_refresh_interval)
    kreis = (await route_destinations(first, KREIS_SERVICE, AVERLAK))[0]

    async def import_service_and_its_office() -> None:
        bundle = {
            "services": [{"leikaKey": key, "name": "Fischereischein", "level": "KREIS"}],
            "authorities": [
                {
                    "id": office,
                    "name": "Fischereiaufsicht Burg",
                    "areaId": AMT_BURG,
                    "destination": {
                        "id": office_destination,
                        "url": "https://kop.example.org/fische",
                        "encryptionKey": public_jwk,
                    },
                }
            ],
            "responsibilities": [{"leikaKey": key, "areaId": AMT_BURG, "authorityId": office}],
        }
        answer = await first.http.post("/v1/admin/import", json=bundle, headers=admin)
        assert answer.status_code == 200, answer.text

    async def routes_to_office_and_kreis(replica: Replica) -> bool:
        return set(await route_destinations(replica, key, DITHMARSCHEN)) == {office_destination, kreis}

    await changed_once(replicas, admin, settings, import_service_and_its_office, routes_to_office_and_kreis)
    for replica in replicas:  # what the job wrote, every replica answers
        assert key in await offered(replica.http, office_destination)
        assert key in await offered(replica.http, kreis)

    async def deactivate_office() -> None:
        answer = await first.http.delete(f"/v1/admin/authorities/{office}", headers=admin)
        assert answer.status_code == 200, answer.text

    async def routes_to_kreis_only(replica: Replica) -> bool:
        return await route_destinations(replica, key, DITHMARSCHEN) == [kreis]

    await changed_once(replicas, admin, settings, deactivate_office, routes_to_kreis_only)


async def test_one_replica_recomputes_at_a_time_and_the_others_say_they_wait(
    replicas: list[Replica], admin: dict[str, str], settings: ZufiSettings
) -> None:
    key = "99123400000014"
    interval = settings.index_refresh_interval
    before = await all_quiet(replicas, admin, interval)
    engine = create_async_engine(settings.database_location)
    try:
        # The test holds the job, as a third replica in the middle of a run would.
        async with engine.connect() as connection, connection.begin():
            assert await connection.scalar(select(func.pg_try_advisory_xact_lock(lock_key(RUN_LOCK))))
            answer = await replicas[0].http.put(
                f"/v1/admin/services/{key}", json={"name": "Angelkarte", "level": "KREIS"}, headers=admin
            )
            assert answer.status_code == 200, answer.text
            for replica in replicas:
                for _ in range(100):
                    status = await replica.status(admin)
                    if status["waitingForAnotherReplica"]:
                        break
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError(f"{replica.name} does not say it waits: {status}")
                assert (status["state"], status["current"]) == ("pending", None), status
            await asyncio.sleep(3 * interval)
            for replica, old in zip(replicas, before, strict=True):
                now = await replica.counters()
                assert now["recomputed"] == old["recomputed"], (replica.name, old, now)
    finally:
        await engine.dispose()

    await synced(replicas[0].http, admin)
    after = await all_quiet(replicas, admin, interval)
    recomputed = sum(new["recomputed"] - old["recomputed"] for old, new in zip(before, after, strict=True))
    found_done = sum(
        new["already_recomputed"] - old["already_recomputed"] for old, new in zip(before, after, strict=True)
    )
    assert (recomputed, found_done) == (1, 1), (before, after)
    statuses = [await replica.status(admin) for replica in replicas]
    assert sorted(status["last"]["alreadyRecomputed"] for status in statuses) == [False, True]
    assert all(status["last"]["services"] == [key] for status in statuses), statuses


async def test_each_change_is_routed_at_once_even_while_the_index_reloads(
    client: httpx.AsyncClient, admin: dict[str, str], settings: ZufiSettings
) -> None:
    key = "99123400000015"
    created = await client.put(
        f"/v1/admin/services/{key}", json={"name": "Reusenfischerei", "level": "KREIS"}, headers=admin
    )
    assert created.status_code == 200, created.text

    async def authority_of(leika_key: str) -> str:
        answer = await client.get("/v1/routes", params={"leikaKey": leika_key, "ars": AVERLAK})
        assert answer.status_code == 200, answer.text
        (route,) = answer.json()["routes"]
        return str(route["authorityId"])

    kreis, amt = await authority_of(KREIS_SERVICE), await authority_of(AMT_SERVICE)
    # Each change makes the job reload the index (~1 s); the changes that follow land meanwhile.
    deadline = asyncio.get_running_loop().time() + 4 * settings.index_refresh_interval + 1
    turn = 0
    while asyncio.get_running_loop().time() < deadline:
        authority = (kreis, amt)[turn % 2]
        moved = await client.put(
            "/v1/admin/responsibilities",
            json={"leikaKey": key, "areaId": AVERLAK, "authorityId": authority},
            headers=admin,
        )
        assert moved.status_code == 200, moved.text
        assert await authority_of(key) == authority, f"change {turn} is not routed"
        turn += 1
    removed = await client.delete(f"/v1/admin/responsibilities/{moved.json()['id']}", headers=admin)
    assert removed.status_code == 204
    await synced(client, admin)
