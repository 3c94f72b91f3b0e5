"""Fixtures: submission on a real PostgreSQL and Kafka, served over real HTTP, beside a zufi double."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the test kit module beside this file

from joserfc.jwk import KeySet
from submission_testkit import (
    GATEWAY_ISSUER,
    Bus,
    FakeZufi,
    Keys,
    Suite,
    clients_file,
    destination_events,
    gateway_app,
    nonconforming_sets,
)

from ozg_submission.app import create_app
from ozg_submission.settings import SubmissionSettings
from ozg_submission.state import SubmissionState
from ozg_testing import (
    free_port,
    fresh_postgres_database,
    kafka_bootstrap,
    serving,
    unique_topic_prefix,
)

LIMITS = {
    "max_attachment_bytes": 64 * 1024,
    "max_submission_bytes": 200 * 1024,
    "max_application_bytes": 256 * 1024,
    "max_attachments": 5,
    "inline_attachment_limit": 2 * 1024,
    # Slow refill, so that a test can use up a ration of failed token requests however slowly
    # this machine checks secrets; the burst leaves room for the failures other tests make.
    "token_failure_rate": 0.2,
    "token_failure_burst": 10,
}


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="session")
def prefix() -> str:
    return unique_topic_prefix()


@pytest.fixture(scope="session")
async def zufi(keys: Keys, prefix: str) -> AsyncIterator[FakeZufi]:
    fake = FakeZufi(keys.zufi, prefix)
    async with serving(fake.app()) as base_url:
        fake.base_url = base_url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture(scope="session")
async def gateway_jwks_url(keys: Keys) -> AsyncIterator[str]:
    async with serving(gateway_app(keys.gateway)) as base_url:
        yield f"{base_url}/.well-known/jwks.json"


@pytest.fixture(scope="session")
async def settings(
    tmp_path_factory: pytest.TempPathFactory, zufi: FakeZufi, prefix: str, gateway_jwks_url: str
) -> SubmissionSettings:
    var = tmp_path_factory.mktemp("submission-var")
    return SubmissionSettings(
        database_url=await fresh_postgres_database("test_submission"),
        kafka_bootstrap_servers=kafka_bootstrap(),
        topic_prefix=prefix,
        topic_partitions=3,
        var_dir=var,
        port=free_port(),
        zufi_url=zufi.base_url,  # type: ignore[attr-defined]
        kop_gateway_issuer=GATEWAY_ISSUER,
        kop_gateway_jwks_url=gateway_jwks_url,
        bootstrap_clients_file=var / "clients.json",
        outbox_poll_interval=0.1,
        callback_allow_http=True,  # the test's callback receivers listen on loopback
        callback_allow_loopback=True,
        callback_poll_interval=0.1,
        callback_retry_schedule=[0.3, 0.3, 0.3],
        **LIMITS,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
async def suite(
    settings: SubmissionSettings, keys: Keys, zufi: FakeZufi, prefix: str
) -> AsyncIterator[Suite]:
    assert settings.bootstrap_clients_file is not None
    secrets = clients_file(settings.bootstrap_clients_file, prefix)
    app = create_app(settings)
    bus = Bus(kafka_bootstrap(), prefix)
    async with serving(app, settings.port) as base_url:
        await bus.start()
        try:
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
                suite = Suite(http, bus, zufi, keys, secrets, prefix)
                await bus.publish(*destination_events(keys, prefix))
                await suite.wait_for_destination(suite.dest_closed)
                yield suite
        finally:
            await bus.stop()
    # Conformance, part of every run: every SET the tests had the service write follows the rules.
    state: SubmissionState = app.state.submission
    trusted = KeySet.import_key_set(
        {"keys": [*state.jwks()["keys"], keys.public(keys.subscriber), keys.public(keys.gateway)]}
    )
    failures = await nonconforming_sets(state.events, settings.database_location, trusted)
    assert not failures, "\n".join(failures)
