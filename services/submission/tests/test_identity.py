"""Tokens, JWKS, the client registry (admin API, CLI, rotation) and citizen tokens."""

import asyncio
import itertools
import json
import os
import sys
from collections.abc import Iterator

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from submission_testkit import Suite, problem
from test_applications import application

from ozg_common.auth import TokenVerifier
from ozg_common.problems import Unauthorized
from ozg_submission.app import create_app
from ozg_submission.settings import SubmissionSettings
from ozg_testing import free_port, serving


async def _token(suite: Suite, client_id: str, secret: str, **extra: str) -> dict[str, object]:
    answer = await suite.http.post(
        "/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, **extra},
    )
    return {"status": answer.status_code, "body": answer.json(), "answer": answer}


async def test_token_is_a_signed_jwt_verifiable_with_the_jwks(suite: Suite) -> None:
    answer = await suite.http.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sender",
            "client_secret": suite.secrets["sender"],
        },
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 1800
    assert answer.headers["cache-control"] == "no-store"
    jwks = (await suite.http.get("/.well-known/jwks.json")).json()
    assert {k["alg"] for k in jwks["keys"]} == {"RS256", "PS512"}
    assert all("d" not in k for k in jwks["keys"])
    claims = jwt.decode(body["access_token"], KeySet.import_key_set(jwks)).claims
    assert claims["sub"] == "sender"
    assert claims["scope"] == "send"
    assert claims["exp"] - claims["iat"] == 1800


async def test_token_errors_are_oauth2_and_problem_details(suite: Suite) -> None:
    wrong = await _token(suite, "sender", "not-the-secret")
    body = problem(wrong["answer"], 401, "invalid-client")  # type: ignore[arg-type]
    assert body["error"] == "invalid_client"
    unknown = await _token(suite, "nobody", "whatever")
    assert problem(unknown["answer"], 401, "invalid-client")["error"] == "invalid_client"  # type: ignore[arg-type]
    grant = await suite.http.post(
        "/token",
        data={"grant_type": "password", "client_id": "sender", "client_secret": suite.secrets["sender"]},
    )
    assert problem(grant, 400, "unsupported-grant-type")["error"] == "unsupported_grant_type"
    missing = await suite.http.post("/token", data={"grant_type": "client_credentials"})
    assert problem(missing, 400, "invalid-token-request")["error"] == "invalid_request"
    as_json = await suite.http.post("/token", json={"grant_type": "client_credentials"})
    problem(as_json, 400, "invalid-token-request")
    scope = await _token(suite, "sender", suite.secrets["sender"], scope="admin")
    assert problem(scope["answer"], 400, "invalid-scope")["error"] == "invalid_scope"  # type: ignore[arg-type]
    narrowed = await _token(suite, "sender-dogs-only", suite.secrets["sender-dogs-only"], scope="send")
    assert narrowed["status"] == 200
    assert narrowed["body"]["scope"] == "send"  # type: ignore[index]


async def test_webservice_operator_may_speak_for_the_destinations_it_serves(suite: Suite) -> None:
    secret = suite.secrets["webservice-operator"]
    served = await _token(suite, "webservice-operator", secret, scope=f"destination:{suite.dest_a}")
    assert served["status"] == 200
    assert served["body"]["scope"] == f"destination:{suite.dest_a}"  # type: ignore[index]
    foreign = await _token(suite, "webservice-operator", secret, scope="destination:elsewhere")
    assert problem(foreign["answer"], 400, "invalid-scope")["error"] == "invalid_scope"  # type: ignore[arg-type]
    unscoped = await _token(suite, "webservice-operator", secret)
    assert unscoped["body"]["scope"] == "zustellkanal-host:127.0.0.1:9"  # type: ignore[index]


async def test_admin_registers_rotates_and_deletes_clients(suite: Suite) -> None:
    admin = await suite.auth("admin")
    created = await suite.http.post(
        "/v1/admin/clients",
        json={"clientId": "portal-x", "scopes": ["send"], "description": "Portal X"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    first = created.json()["clientSecret"]
    assert (await _token(suite, "portal-x", first))["status"] == 200
    problem(
        await suite.http.post(
            "/v1/admin/clients", json={"clientId": "portal-x", "scopes": ["send"]}, headers=admin
        ),
        409,
        "client-exists",
    )
    listed = (await suite.http.get("/v1/admin/clients", headers=admin)).json()
    assert "portal-x" in {c["clientId"] for c in listed}
    assert all("clientSecret" not in c and "secretHash" not in c for c in listed)

    rotated = await suite.http.post(
        "/v1/admin/clients/portal-x/secret", json={"graceSeconds": 60}, headers=admin
    )
    second = rotated.json()["clientSecret"]
    assert second != first
    assert (await _token(suite, "portal-x", first))["status"] == 200, (
        "the old secret works during the grace period"
    )
    assert (await _token(suite, "portal-x", second))["status"] == 200
    again = await suite.http.post("/v1/admin/clients/portal-x/secret", headers=admin)
    third = again.json()["clientSecret"]
    assert (await _token(suite, "portal-x", second))["status"] == 401, (
        "no grace: the old secret stops at once"
    )
    assert (await _token(suite, "portal-x", third))["status"] == 200

    disabled = await suite.http.patch("/v1/admin/clients/portal-x", json={"active": False}, headers=admin)
    assert disabled.json()["active"] is False
    assert (await _token(suite, "portal-x", third))["status"] == 401
    assert (await suite.http.delete("/v1/admin/clients/portal-x", headers=admin)).status_code == 204
    problem(await suite.http.get("/v1/admin/clients/portal-x", headers=admin), 404, "client-not-found")
    bad_scope = await suite.http.post("/v1/admin/clients", json={"scopes": ["send me"]}, headers=admin)
    problem(bad_scope, 400, "invalid-application")


async def test_administrators_cannot_lock_themselves_out(suite: Suite) -> None:
    admin = await suite.auth("admin")
    for own in (
        await suite.http.delete("/v1/admin/clients/admin", headers=admin),
        await suite.http.patch("/v1/admin/clients/admin", json={"active": False}, headers=admin),
    ):
        assert "itself" in problem(own, 409, "administrator-lock-out")["detail"]
    created = await suite.http.post(
        "/v1/admin/clients", json={"clientId": "second-admin", "scopes": ["admin"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    second = await _token(suite, "second-admin", created.json()["clientSecret"])
    second_admin = {"Authorization": f"Bearer {second['body']['access_token']}"}  # type: ignore[index]
    deactivated = await suite.http.patch(
        "/v1/admin/clients/second-admin", json={"active": False}, headers=admin
    )
    assert deactivated.status_code == 200, "another administrator may be deactivated while one stays"

    # The deactivated administrator's token is still valid until it expires; the one active
    # administrator left must survive it.
    for removal in (
        await suite.http.delete("/v1/admin/clients/admin", headers=second_admin),
        await suite.http.patch("/v1/admin/clients/admin", json={"active": False}, headers=second_admin),
        await suite.http.patch("/v1/admin/clients/admin", json={"scopes": ["send"]}, headers=second_admin),
    ):
        assert "last active" in problem(removal, 409, "administrator-lock-out")["detail"]
    kept = await suite.http.get("/v1/admin/clients/admin", headers=admin)
    assert kept.json()["active"] is True
    assert kept.json()["scopes"] == ["admin"]
    renamed = await suite.http.patch(
        "/v1/admin/clients/admin", json={"description": "operators"}, headers=second_admin
    )
    assert renamed.status_code == 200, "changes that keep the administrator are allowed"
    assert (await suite.http.delete("/v1/admin/clients/second-admin", headers=admin)).status_code == 204


def _from(suite: Suite, address: str) -> httpx.AsyncClient:
    """A client whose requests come from another loopback address."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=suite.http.base_url, transport=transport, timeout=30)


def _form(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


async def _guess(http: httpx.AsyncClient, client_id: str, secret: str = "guessed") -> httpx.Response:
    return await http.post("/token", data=_form(client_id, secret))


async def _guess_until_throttled(http: httpx.AsyncClient, client_ids: Iterator[str]) -> httpx.Response:
    for _ in range(40):
        answer = await _guess(http, next(client_ids))
        if answer.status_code != 401:
            return answer
    raise AssertionError("40 failed token requests were never throttled")


async def test_failed_token_requests_are_rationed_per_address_and_per_client(suite: Suite) -> None:
    admin = await suite.auth("admin")
    created = await suite.http.post(
        "/v1/admin/clients", json={"clientId": "guessed-portal", "scopes": ["send"]}, headers=admin
    )
    secret = created.json()["clientSecret"]
    async with _from(suite, "127.0.0.2") as guesser, _from(suite, "127.0.0.3") as elsewhere:
        unknown_ids = (f"nobody-{n}" for n in itertools.count())
        throttled = problem(
            await _guess_until_throttled(guesser, unknown_ids), 429, "token-requests-throttled"
        )
        assert "address" in throttled["detail"]
        refused = await _guess(guesser, "guessed-portal", secret)
        problem(refused, 429, "token-requests-throttled")
        assert int(refused.headers["retry-after"]) >= 1
        assert (await _guess(elsewhere, "guessed-portal", secret)).status_code == 200, (
            "another address is not affected"
        )

    # Guesses for one client id from ever new addresses use up that client's ration.
    addresses = (f"127.0.1.{n}" for n in itertools.count(1))
    for _ in range(40):
        async with _from(suite, next(addresses)) as http:
            answer = await _guess(http, "guessed-portal")
        if answer.status_code != 401:
            break
    assert "client" in problem(answer, 429, "token-requests-throttled")["detail"]
    assert (await _token(suite, "sender", suite.secrets["sender"]))["status"] == 200, (
        "other clients are not affected"
    )
    metrics = (await suite.http.get("/metrics")).text
    assert 'token_requests_throttled_total{limit="address"}' in metrics
    assert 'token_requests_throttled_total{limit="client"}' in metrics


async def test_a_client_that_knows_its_secret_gets_tokens_while_its_id_and_address_are_guessed(
    suite: Suite,
) -> None:
    admin = await suite.auth("admin")
    created = await suite.http.post(
        "/v1/admin/clients", json={"clientId": "besieged-portal", "scopes": ["send"]}, headers=admin
    )
    secret = created.json()["clientSecret"]
    async with _from(suite, "127.0.0.4") as portal:
        assert (await _guess(portal, "besieged-portal", secret)).status_code == 200
        # Guesses for its id from ever new addresses, and from the portal's own address (last, as
        # its ration refills meanwhile).
        addresses = (f"127.0.5.{n}" for n in itertools.count(1))
        for _ in range(40):
            async with _from(suite, next(addresses)) as http:
                answer = await _guess(http, "besieged-portal")
            if answer.status_code != 401:
                break
        refused = problem(answer, 429, "token-requests-throttled")
        assert "client" in refused["detail"]
        assert int(answer.headers["retry-after"]) >= 1
        unknown_ids = (f"stranger-{n}" for n in itertools.count())
        problem(await _guess_until_throttled(portal, unknown_ids), 429, "token-requests-throttled")

        granted = await _guess(portal, "besieged-portal", secret)
        assert granted.status_code == 200, "the secret it used before is still taken"
        assert "access_token" in granted.json()
        assert (await _guess(portal, "besieged-portal", "guessed")).status_code == 429
        as_multipart = await portal.post(
            "/token", data=_form("stranger-x", "guessed"), files={"note": ("note.txt", b"")}
        )
        assert "address" in problem(as_multipart, 429, "token-requests-throttled")["detail"], (
            "a form sent as multipart meets the same rations in the endpoint"
        )
        async with _from(suite, next(addresses)) as elsewhere:
            assert (await _guess(elsewhere, "besieged-portal", secret)).status_code == 200

    # A rotated secret is no longer taken: the old one is not remembered past its hash.
    rotated = await suite.http.post("/v1/admin/clients/besieged-portal/secret", headers=admin)
    assert rotated.status_code == 200
    async with _from(suite, "127.0.0.4") as portal:
        # Refused by the address's ration while it is empty, by the check once it has refilled.
        assert (await _guess(portal, "besieged-portal", secret)).status_code in {401, 429}


async def test_guesses_for_a_client_id_elsewhere_do_not_lock_the_client_out_where_it_works(
    suite: Suite,
) -> None:
    admin = await suite.auth("admin")
    created = await suite.http.post(
        "/v1/admin/clients", json={"clientId": "steady-portal", "scopes": ["send"]}, headers=admin
    )
    async with _from(suite, "127.0.0.7") as portal:
        assert (await _guess(portal, "steady-portal", created.json()["clientSecret"])).status_code == 200
    addresses = (f"127.0.7.{n}" for n in itertools.count(1))
    for _ in range(40):
        async with _from(suite, next(addresses)) as http:
            answer = await _guess(http, "steady-portal")
        if answer.status_code != 401:
            break
    assert "client" in problem(answer, 429, "token-requests-throttled")["detail"]

    # A secret never verified before (just rotated) needs a scrypt: still granted where the client works.
    rotated = await suite.http.post("/v1/admin/clients/steady-portal/secret", headers=admin)
    secret = rotated.json()["clientSecret"]
    async with _from(suite, "127.0.0.7") as portal:
        assert (await _guess(portal, "steady-portal", secret)).status_code == 200
        assert (await _guess(portal, "steady-portal")).status_code == 401, (
            "a wrong secret from there is a failure, charged to that address"
        )
    async with _from(suite, next(addresses)) as stranger:
        assert (await _guess(stranger, "steady-portal")).status_code == 429, (
            "strangers still meet the client's ration"
        )


async def test_a_client_deactivated_through_another_replica_gets_no_token_once_its_entry_is_re_read(
    suite: Suite, settings: SubmissionSettings
) -> None:
    admin = await suite.auth("admin")
    created = await suite.http.post(
        "/v1/admin/clients", json={"clientId": "moving-portal", "scopes": ["send"]}, headers=admin
    )
    secret = created.json()["clientSecret"]
    other = settings.model_copy(update={"port": free_port(), "token_registry_seconds": 0.5})
    async with (
        serving(create_app(other), other.port) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as replica,
    ):
        assert (await replica.post("/token", data=_form("moving-portal", secret))).status_code == 200
        disabled = await suite.http.patch(
            "/v1/admin/clients/moving-portal", json={"active": False}, headers=admin
        )
        assert disabled.status_code == 200
        await asyncio.sleep(0.6)
        refused = await replica.post("/token", data=_form("moving-portal", secret))
        assert refused.status_code == 401, "past token_registry_seconds the registry is read again"


async def test_a_replica_re_reads_its_verified_clients_in_the_background(
    suite: Suite, settings: SubmissionSettings
) -> None:
    """A scope change made through another replica reaches this one's remembered entry without a
    token request having to read the registry: under a flood of guesses that read would wait."""
    admin = await suite.auth("admin")
    created = await suite.http.post(
        "/v1/admin/clients", json={"clientId": "growing-portal", "scopes": ["send"]}, headers=admin
    )
    secret = created.json()["clientSecret"]
    other = settings.model_copy(update={"port": free_port(), "token_registry_seconds": 0.5})
    app = create_app(other)
    verified = app.state.submission.verified_secrets
    async with (
        serving(app, other.port) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as replica,
    ):
        assert (await replica.post("/token", data=_form("growing-portal", secret))).json()["scope"] == "send"
        changed = await suite.http.patch(
            "/v1/admin/clients/growing-portal", json={"scopes": ["send", "subscribe"]}, headers=admin
        )
        assert changed.status_code == 200
        await asyncio.sleep(1.0)
        entry = verified.lookup("growing-portal", secret)
        assert entry is not None
        assert entry.read_lately, "the entry was read again meanwhile, without a token request"
        assert entry.client.scopes == ("send", "subscribe")

        await suite.http.patch("/v1/admin/clients/growing-portal", json={"active": False}, headers=admin)
        await asyncio.sleep(1.0)
        assert verified.lookup("growing-portal", secret) is None, "a deactivated client is forgotten"


async def test_secret_checks_have_a_budget_per_replica(suite: Suite, settings: SubmissionSettings) -> None:
    """Guesses for many registered clients from many addresses pass every per-client and
    per-address ration; the replica's budget of secret checks still bounds them."""
    budget = {"port": free_port(), "token_check_rate": 0.01, "token_check_burst": 3}
    tight = settings.model_copy(update=budget)
    async with (
        serving(create_app(tight), tight.port) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
    ):
        answer = await http.post("/token", data=_form("sender", suite.secrets["sender"]))
        assert answer.status_code == 200

        async def guess(n: int, client_id: str) -> httpx.Response:
            transport = httpx.AsyncHTTPTransport(local_address=f"127.0.6.{n + 1}")
            async with httpx.AsyncClient(base_url=base_url, transport=transport, timeout=30) as other:
                return await other.post("/token", data=_form(client_id, "guessed"))

        registered = [c for c in suite.secrets if c != "sender"]
        answers = [await guess(n, client_id) for n, client_id in enumerate(registered[:6])]
        assert [a.status_code for a in answers[:3]] == [401, 401, 401]
        for refused in answers[3:]:
            assert "service" in problem(refused, 429, "token-requests-throttled")["detail"]
            assert int(refused.headers["retry-after"]) >= 1
        assert (await guess(7, "nobody-at-all")).status_code == 401, "unknown ids cost no check"

        answer = await http.post("/token", data=_form("sender", suite.secrets["sender"]))
        assert answer.status_code == 200, "a secret verified before needs no check"
        metrics = (await http.get("/metrics")).text
        assert 'token_requests_throttled_total{limit="service"} 3.0' in metrics


async def test_an_event_log_token_is_no_access_token(suite: Suite, settings: SubmissionSettings) -> None:
    """The published JWKS holds the event-log key too: a SET verifies with it, but the other services,
    which check tokens against that JWKS, must not take it for an access token."""
    sender = await suite.auth("sender")
    created = await suite.http.post("/v1/applications", json=application(), headers=sender)
    assert created.status_code == 201, created.text
    log = await suite.http.get(f"/v1/submissions/{created.json()['submissionId']}/events", headers=sender)
    security_event_token = log.json()["eventLog"][0]
    jwks = (await suite.http.get("/.well-known/jwks.json")).json()
    verifier = TokenVerifier(issuer=settings.public_base_url, jwks=jwks)
    with pytest.raises(Unauthorized, match="not an access token"):
        await verifier.verify(security_event_token)


async def test_administration_needs_the_admin_scope(suite: Suite) -> None:
    problem(await suite.http.get("/v1/admin/clients"), 401, "unauthorized")
    problem(await suite.http.get("/v1/admin/clients", headers=await suite.auth("sender")), 403, "forbidden")
    citizen = await suite.http.post(
        "/v1/admin/citizen-tokens", json={"subject": "bund-123"}, headers=await suite.auth("subscriber-a")
    )
    problem(citizen, 403, "forbidden")


async def test_citizen_tokens_for_the_mailbox(suite: Suite) -> None:
    answer = await suite.http.post(
        "/v1/admin/citizen-tokens",
        json={"subject": "bund-123", "email": "erika@example.org", "storkQaaLevel": "STORK-QAA-Level-3"},
        headers=await suite.auth("admin"),
    )
    assert answer.status_code == 200, answer.text
    jwks = (await suite.http.get("/.well-known/jwks.json")).json()
    claims = jwt.decode(answer.json()["access_token"], KeySet.import_key_set(jwks)).claims
    assert claims["sub"] == "bund-123"
    assert claims["scope"] == "citizen"
    assert claims["email"] == "erika@example.org"
    assert claims["stork_qaa_level"] == "STORK-QAA-Level-3"


async def test_cli_creates_a_client_whose_secret_works(suite: Suite, settings: SubmissionSettings) -> None:
    environment = os.environ | {
        "OZG_SUBMISSION_DATABASE_URL": settings.database_location,
        "OZG_SUBMISSION_VAR_DIR": str(settings.var_dir),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ozg_submission",
        "create-client",
        "--client-id",
        "cli-portal",
        "--scope",
        "send",
        env=environment,
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0
    printed = json.loads(stdout.decode().strip().splitlines()[-1])
    assert printed["clientId"] == "cli-portal"
    assert (await _token(suite, "cli-portal", printed["clientSecret"]))["status"] == 200
