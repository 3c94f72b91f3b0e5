"""The admin API: every change is visible at once in routing and published on Kafka."""

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.jwk import RSAKey
from joserfc.util import urlsafe_b64encode

from ozg_testing.pki import certificate, root, x5c
from ozg_zufi.settings import ZufiSettings

from .conftest import EventLog

GEMEINDE_SERVICE = "99110007000000"
AMT_SERVICE = "99050035001000"
AVERLAK, BRICKELN, AMT_BURG = "010515163003", "010515163010", "010515163"


@pytest.fixture(scope="module")
def public_jwk(settings: ZufiSettings) -> dict[str, Any]:
    key = RSAKey.import_key(json.loads(settings.demo_key_path.read_text()))
    return key.as_dict(private=False) | {"kid": f"test-{uuid.uuid4()}"}


def authority_body(name: str, area: str, jwk: dict[str, Any], **destination: Any) -> dict[str, Any]:
    return {
        "name": name,
        "areaId": area,
        "address": {"street": "Markt", "houseNumber": "1", "zip": "25712", "city": "Burg"},
        "contactPersons": [{"name": "Poststelle", "email": "post@example.org"}],
        "destination": {"url": "https://kop.example.org/in", "encryptionKey": jwk, **destination},
    }


async def route_for(client: httpx.AsyncClient, service: str, ars: str) -> dict[str, Any]:
    answer = await client.get("/v1/routes", params={"leikaKey": service, "ars": ars})
    assert answer.status_code == 200, answer.text
    routes = answer.json()["routes"]
    assert len(routes) == 1, routes
    return dict(routes[0])


async def test_seed_published_every_destination_and_service(
    events: EventLog, client: httpx.AsyncClient
) -> None:
    route = await route_for(client, AMT_SERVICE, AVERLAK)
    destination = await events.wait_for(
        "destination.changed", lambda e: e["destination_id"] == route["destinationId"]
    )
    assert destination["zustellkanal"]["url"].endswith(f"/kop/{route['destinationId']}")
    assert destination["zustellkanal"]["channel_type"] == "webservice"
    assert destination["encryption_key"]["alg"] == "RSA-OAEP-256"
    assert AMT_SERVICE in destination["services"]
    assert AVERLAK.startswith(destination["area_ars"]), "the area its authority serves"
    service = await events.wait_for("service.changed", lambda e: e["leika_key"] == AMT_SERVICE)
    assert service["payment_required"] is True
    assert service["fees"][0]["price"] == "26.00"


async def test_explicit_responsibilities_override_the_level_rule_most_specific_first(
    client: httpx.AsyncClient, admin: dict[str, str], public_jwk: dict[str, Any], events: EventLog
) -> None:
    amt_office = await client.post(
        "/v1/admin/authorities",
        json=authority_body("Hundesteuerstelle Amt Burg", AMT_BURG, public_jwk),
        headers=admin,
    )
    assert amt_office.status_code == 201, amt_office.text
    village_office = await client.post(
        "/v1/admin/authorities",
        json=authority_body("Hundesteuer Averlak", AVERLAK, public_jwk, replyChannels=["eMail"]),
        headers=admin,
    )
    assert village_office.status_code == 201, village_office.text
    amt_id, village_id = amt_office.json()["id"], village_office.json()["id"]
    amt_destination = amt_office.json()["destination"]["id"]
    await events.wait_for("destination.changed", lambda e: e["destination_id"] == amt_destination)

    # Averlak has its own generated authority: the new one is only its second.
    assert (await route_for(client, GEMEINDE_SERVICE, AVERLAK))[
        "destinationName"
    ] == "Gemeindeverwaltung Averlak"

    wide = await client.put(
        "/v1/admin/responsibilities",
        json={"leikaKey": GEMEINDE_SERVICE, "areaId": AMT_BURG, "authorityId": amt_id},
        headers=admin,
    )
    assert wide.status_code == 200, wide.text
    for gemeinde in (AVERLAK, BRICKELN):
        route = await route_for(client, GEMEINDE_SERVICE, gemeinde)
        assert route["destinationName"] == "Hundesteuerstelle Amt Burg"
        assert route["address"]["street"] == "Markt"
        assert route["contactPersons"] == [{"name": "Poststelle", "email": "post@example.org"}]

    narrow = await client.put(
        "/v1/admin/responsibilities",
        json={
            "leikaKey": f"urn:de:fim:leika:leistung:{GEMEINDE_SERVICE}",
            "areaId": AVERLAK,
            "authorityId": village_id,
        },
        headers=admin,
    )
    assert narrow.status_code == 200, narrow.text
    assert (await route_for(client, GEMEINDE_SERVICE, AVERLAK))["destinationName"] == "Hundesteuer Averlak"
    assert (await route_for(client, GEMEINDE_SERVICE, BRICKELN))[
        "destinationName"
    ] == "Hundesteuerstelle Amt Burg"
    event = await events.wait_for(
        "responsibility.changed", lambda e: e["responsibility_id"] == narrow.json()["id"]
    )
    assert event == {
        "responsibility_id": narrow.json()["id"],
        "leika_key": GEMEINDE_SERVICE,
        "ars": AVERLAK,
        "authority_id": village_id,
        "destination_id": village_office.json()["destination"]["id"],
        "removed": False,
    }

    listed = await client.get(
        "/v1/admin/responsibilities", params={"leikaKey": GEMEINDE_SERVICE}, headers=admin
    )
    assert listed.json()["totalCount"] == 2

    removed = await client.delete(f"/v1/admin/responsibilities/{narrow.json()['id']}", headers=admin)
    assert removed.status_code == 204
    assert (await route_for(client, GEMEINDE_SERVICE, AVERLAK))[
        "destinationName"
    ] == "Hundesteuerstelle Amt Burg"
    await events.wait_for(
        "responsibility.changed", lambda e: e["responsibility_id"] == narrow.json()["id"] and e["removed"]
    )
    again = await client.delete(f"/v1/admin/responsibilities/{narrow.json()['id']}", headers=admin)
    assert again.status_code == 404
    assert again.json()["type"].endswith("/responsibility-not-found")

    # Deactivating the Amt office's destination stops routing to it: no route rather than a wrong one.
    deactivated = await client.delete(f"/v1/admin/authorities/{amt_id}", headers=admin)
    assert deactivated.json()["destination"]["status"] == "inactive"
    answer = await client.get("/v1/routes", params={"leikaKey": GEMEINDE_SERVICE, "ars": BRICKELN})
    assert answer.json()["totalCount"] == 0
    await events.wait_for(
        "destination.changed", lambda e: e["destination_id"] == amt_destination and e["status"] == "inactive"
    )
    await client.delete(f"/v1/admin/responsibilities/{wide.json()['id']}", headers=admin)
    assert (await route_for(client, GEMEINDE_SERVICE, BRICKELN))[
        "destinationName"
    ] == "Gemeindeverwaltung Brickeln"


async def test_services_are_created_changed_and_deactivated(
    client: httpx.AsyncClient, admin: dict[str, str], events: EventLog
) -> None:
    key = "99123456789012"
    body = {
        "name": "Testleistung",
        "level": "KREIS",
        "paymentRequired": True,
        "fees": [{"id": "f1", "description": "Gebühr", "price": "12.50", "taxRate": "19"}],
        "formSchema": {"type": "object"},
    }
    created = await client.put(f"/v1/admin/services/{key}", json=body, headers=admin)
    assert created.status_code == 200, created.text
    assert created.json()["identifier"] == f"urn:de:fim:leika:leistung:{key}"
    event = await events.wait_for("service.changed", lambda e: e["leika_key"] == key)
    assert event["fees"] == [
        {
            "id": "f1",
            "description": "Gebühr",
            "price": "12.50",
            "quantity": 1,
            "tax_rate": "19",
            "booking_data": {},
        }
    ]
    assert event["level"] == "KREIS"
    assert event["payment_required"] is True
    assert (await route_for(client, key, AVERLAK))["destinationName"] == "Kreisverwaltung Dithmarschen"
    fetched = await client.get(f"/v1/services/urn:de:fim:leika:leistung:{key}")
    assert fetched.json()["name"] == "Testleistung"
    listed = await client.get("/v1/services", params={"limit": 500})
    assert key in [service["leikaKey"] for service in listed.json()["services"]]

    changed = await client.put(f"/v1/admin/services/{key}", json={**body, "level": "LAND"}, headers=admin)
    assert changed.json()["level"] == "LAND"
    assert (await route_for(client, key, AVERLAK))["destinationName"] == "Landesverwaltung Schleswig-Holstein"

    gone = await client.delete(f"/v1/admin/services/{key}", headers=admin)
    assert gone.json()["active"] is False
    await events.wait_for("service.changed", lambda e: e["leika_key"] == key and not e["active"])
    answer = await client.get("/v1/routes", params={"leikaKey": key, "ars": AVERLAK})
    assert answer.status_code == 404
    assert answer.json()["type"].endswith("/service-not-found")


@pytest.mark.parametrize(
    ("change", "status", "slug"),
    [
        ({"areaId": "019999999999"}, 422, "unknown-reference"),
        (
            {"destination": {"url": "https://x.example.org", "encryptionKey": {"kty": "oct", "k": "AA"}}},
            422,
            "invalid-encryption-key",
        ),
        ({"destination": {"encryptionKey": {"kty": "RSA"}}}, 422, "unprocessable-entity"),
        ({"name": ""}, 422, "unprocessable-entity"),
    ],
)
async def test_invalid_authorities_are_refused(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    public_jwk: dict[str, Any],
    change: dict[str, Any],
    status: int,
    slug: str,
) -> None:
    body = authority_body("Falsch", AVERLAK, public_jwk) | change
    answer = await client.post("/v1/admin/authorities", json=body, headers=admin)
    assert answer.status_code == status, answer.text
    assert answer.json()["type"].endswith("/" + slug)


async def test_weak_or_private_keys_are_refused(
    client: httpx.AsyncClient, admin: dict[str, str], public_jwk: dict[str, Any]
) -> None:
    small = RSAKey.generate_key(2048, parameters={"kid": "small"}).as_dict(private=False)
    for jwk, reason in ((small, "4096"), (public_jwk | {"d": "AAAA"}, "public key only")):
        answer = await client.post(
            "/v1/admin/authorities", json=authority_body("K", AVERLAK, jwk), headers=admin
        )
        assert answer.status_code == 422
        assert answer.json()["type"].endswith("/invalid-encryption-key")
        assert reason in answer.json()["detail"]


async def test_signing_key_is_checked_published_and_served(
    client: httpx.AsyncClient, admin: dict[str, str], public_jwk: dict[str, Any], events: EventLog
) -> None:
    small = RSAKey.generate_key(2048, parameters={"kid": "small-sig"}).as_dict(private=False)
    for signing, reason in (
        (small, "4096"),
        (public_jwk, "kid of its own"),
        (public_jwk | {"kid": "sig", "alg": "RS256"}, "PS512"),
    ):
        answer = await client.post(
            "/v1/admin/authorities",
            json=authority_body("Signiert", AVERLAK, public_jwk, signingKey=signing),
            headers=admin,
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["type"].endswith("/invalid-signing-key")
        assert reason in answer.json()["detail"]

    kid = f"sig-{uuid.uuid4()}"
    created = await client.post(
        "/v1/admin/authorities",
        json=authority_body("Signiert", AVERLAK, public_jwk, signingKey=public_jwk | {"kid": kid}),
        headers=admin,
    )
    assert created.status_code == 201, created.text
    destination = created.json()["destination"]
    assert destination["signingKid"] == kid
    served = await client.get(f"/v1/destinations/{destination['id']}/keys/{kid}")
    assert served.status_code == 200, served.text
    assert served.json() == {
        "kty": "RSA",
        "kid": kid,
        "n": public_jwk["n"],
        "e": public_jwk["e"],
        "alg": "PS512",
        "use": "sig",
        "key_ops": ["verify"],
    }
    encryption = await client.get(f"/v1/destinations/{destination['id']}/keys/{public_jwk['kid']}")
    assert encryption.json()["key_ops"] == ["wrapKey"]
    event = await events.wait_for("destination.changed", lambda e: e["destination_id"] == destination["id"])
    assert event["signing_key"] == served.json()
    assert event["area_ars"] == AVERLAK


PKI = "Test-PKI der Verwaltung"


async def test_a_keys_certificate_chain_is_checked_and_published_with_it(
    client: httpx.AsyncClient, admin: dict[str, str], public_jwk: dict[str, Any], events: EventLog
) -> None:
    ca = ec.generate_private_key(ec.SECP256R1())
    key = RSAKey.import_key(public_jwk).public_key
    chain = x5c(certificate("Ordnungsamt Averlak", key, issuer=PKI, signer=ca), root(PKI, ca))
    leaf = chain[0]
    thumbprint = urlsafe_b64encode(hashlib.sha256(base64.b64decode(leaf)).digest()).decode()
    certified = public_jwk | {"x5c": chain, "x5t#S256": thumbprint}

    other = rsa.generate_private_key(65537, 2048).public_key()
    expired = datetime.now(UTC) - timedelta(days=400)
    for refused, reason in (
        (x5c(certificate("Fremd", other, issuer=PKI, signer=ca)), "not for this key"),
        (x5c(certificate("Abgelaufen", key, issuer=PKI, signer=ca, valid_from=expired, days=365)), "not now"),
        ([leaf.replace("+", "-").replace("/", "_") + "!"], "base64"),
        (leaf, "list"),
        ([], "list"),
    ):
        answer = await client.post(
            "/v1/admin/authorities",
            json=authority_body("Zertifiziert", AVERLAK, public_jwk | {"x5c": refused}),
            headers=admin,
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["type"].endswith("/invalid-encryption-key")
        assert reason in answer.json()["detail"]
    wrong_thumbprint = certified | {"x5t#S256": urlsafe_b64encode(b"\0" * 32).decode()}
    answer = await client.post(
        "/v1/admin/authorities", json=authority_body("Z", AVERLAK, wrong_thumbprint), headers=admin
    )
    assert answer.status_code == 422, answer.text
    assert "x5t#S256" in answer.json()["detail"]

    created = await client.post(
        "/v1/admin/authorities", json=authority_body("Zertifiziert", AVERLAK, certified), headers=admin
    )
    assert created.status_code == 201, created.text
    destination = created.json()["destination"]["id"]
    served = await client.get(f"/v1/destinations/{destination}/keys/{public_jwk['kid']}")
    assert served.status_code == 200, served.text
    assert served.json()["x5c"] == chain
    assert served.json()["x5t#S256"] == thumbprint
    event = await events.wait_for("destination.changed", lambda e: e["destination_id"] == destination)
    assert event["encryption_key"]["x5c"] == chain, "submission publishes the key as zufi does"


async def test_unknown_references_in_responsibilities_are_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for body in (
        {"leikaKey": "99999999999999", "areaId": AVERLAK, "authorityId": str(uuid.uuid4())},
        {"leikaKey": GEMEINDE_SERVICE, "areaId": "019999999999", "authorityId": str(uuid.uuid4())},
        {"leikaKey": GEMEINDE_SERVICE, "areaId": AVERLAK, "authorityId": str(uuid.uuid4())},
        {"leikaKey": "nope", "areaId": AVERLAK, "authorityId": str(uuid.uuid4())},
    ):
        answer = await client.put("/v1/admin/responsibilities", json=body, headers=admin)
        assert answer.status_code == 422, answer.text
        assert answer.json()["type"].endswith("/unknown-reference")


async def test_a_put_with_if_match_only_replaces_the_version_it_read(
    client: httpx.AsyncClient, admin: dict[str, str], public_jwk: dict[str, Any]
) -> None:
    created = await client.post(
        "/v1/admin/authorities", json=authority_body("Versioniert", AVERLAK, public_jwk), headers=admin
    )
    assert created.status_code == 201, created.text
    path = f"/v1/admin/authorities/{created.json()['id']}"
    read = await client.get(path, headers=admin)
    version = read.headers["etag"]
    assert version.startswith('"')
    assert version.endswith('"')

    # Someone else renames it after our read: our write of the old version is refused.
    renamed = await client.put(path, json=authority_body("Umbenannt", AVERLAK, public_jwk), headers=admin)
    assert renamed.status_code == 200, renamed.text
    assert renamed.headers["etag"] != version
    stale = await client.put(
        path,
        json=authority_body("Versioniert", AVERLAK, public_jwk, replyChannels=["eMail"]),
        headers=admin | {"If-Match": version},
    )
    assert stale.status_code == 412, stale.text
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["type"].endswith("/authority-changed")
    assert (await client.get(path, headers=admin)).json()["name"] == "Umbenannt"

    # Read again, then the write goes through; `*` only asks that it exists.
    current = (await client.get(path, headers=admin)).headers["etag"]
    body = authority_body("Umbenannt", AVERLAK, public_jwk, replyChannels=["eMail"])
    fresh = await client.put(path, json=body, headers=admin | {"If-Match": current})
    assert fresh.status_code == 200, fresh.text
    assert fresh.headers["etag"] == (await client.get(path, headers=admin)).headers["etag"]
    missing = await client.put(
        f"/v1/admin/authorities/{uuid.uuid4()}", json=body, headers=admin | {"If-Match": "*"}
    )
    assert missing.status_code == 412, missing.text


async def test_a_destination_names_the_metadata_versions_it_takes(
    client: httpx.AsyncClient, admin: dict[str, str], public_jwk: dict[str, Any], events: EventLog
) -> None:
    created = await client.post(
        "/v1/admin/authorities", json=authority_body("Metadaten", AVERLAK, public_jwk), headers=admin
    )
    assert created.status_code == 201, created.text
    destination_id = created.json()["destination"]["id"]
    assert created.json()["destination"]["metadataVersions"] == ["2.1.0", "1.0.0"], "newest first"
    event = await events.wait_for("destination.changed", lambda e: e["destination_id"] == destination_id)
    assert event["metadata_versions"] == ["2.1.0", "1.0.0"]

    body = authority_body("Metadaten", AVERLAK, public_jwk, id=destination_id, metadataVersions=["1.0.0"])
    narrowed = await client.put(f"/v1/admin/authorities/{created.json()['id']}", json=body, headers=admin)
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["destination"]["metadataVersions"] == ["1.0.0"]
    public = await client.get(f"/v1/destinations/{destination_id}")
    assert public.json()["metadataVersions"] == ["1.0.0"]
    await events.wait_for(
        "destination.changed",
        lambda e: e["destination_id"] == destination_id and e["metadata_versions"] == ["1.0.0"],
    )

    for versions in ([], ["1.1.0"], ["3.0.0", "2.1.0"]):
        body = authority_body("Metadaten", AVERLAK, public_jwk, metadataVersions=versions)
        refused = await client.post("/v1/admin/authorities", json=body, headers=admin)
        assert refused.status_code == 422, (versions, refused.text)
        assert refused.json()["type"].endswith("/unprocessable-entity")
