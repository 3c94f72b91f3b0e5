"""The whole suite as separate processes on real Kafka and PostgreSQL, started once for tests/e2e."""

import importlib.util
import secrets
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from ozg_common.settings import PROJECT_ROOT
from ozg_testing.citizen_login import mailbox_citizen_settings, provider_issuer
from ozg_testing.suite_harness import Suite, postgres_suite

RUN_DIR = PROJECT_ROOT / "var" / "e2e"

PROVIDER_API_KEY = secrets.token_urlsafe(24)
"""payment logs in at its simulated provider with a key, as at a real one (no log may show it)."""

# Fast clocks, so an outage of a few seconds and a SIGKILLed worker are over within the test budget.
E2E_SETTINGS = {
    "zufi": {"RATE_LIMIT_PER_SECOND": "10000", "RATE_LIMIT_BURST": "10000"},
    "kop-gateway": {
        "RETRY_SCHEDULE": "[1, 1, 2, 2, 3]",
        "RETRY_INTERVAL": "3",
        "RETRY_JITTER": "0",
        "BREAKER_COOLDOWN": "2",
        "REQUEST_TIMEOUT": "5",
        "CLAIM_LEASE": "8",
        "POLL_INTERVAL": "0.2",
    },
    "demo-receiver": {"RETRY_AFTER_SECONDS": "1"},
    "payment": {"PROVIDER_API_KEY": PROVIDER_API_KEY, "SIMULATED_PROVIDER_API_KEY": PROVIDER_API_KEY},
    "mailbox": {"SMTP_PASSWORD": secrets.token_urlsafe(24)},
}


def load_script(path: Path) -> ModuleType:
    """A script of the repository (deploy/demo/demo.py, bench/chaos.py) as a module."""
    name = f"e2e_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def demo() -> ModuleType:
    return load_script(PROJECT_ROOT / "deploy" / "demo" / "demo.py")


@pytest.fixture(scope="session")
def chaos() -> ModuleType:
    return load_script(PROJECT_ROOT / "bench" / "chaos.py")


@pytest.fixture(scope="session")
async def suite() -> AsyncIterator[Suite]:
    # Citizens sign in on the mailbox web page at the local OIDC provider, as `make demo` does.
    citizen_login = mailbox_citizen_settings(provider_issuer())
    settings = {**E2E_SETTINGS, "mailbox": {**E2E_SETTINGS["mailbox"], **citizen_login}}
    suite = await postgres_suite(RUN_DIR, database_prefix="test_e2e", settings=settings)
    try:
        await suite.start(within=240)
        timings = ", ".join(f"{name} {took:.1f} s" for name, took in sorted(suite.start_times.items()))
        caught_up = await suite.settled()
        print(f"\nsuite up in {suite.started_in:.1f} s ({timings}), read models in {caught_up:.1f} s more")
        yield suite
    finally:
        await suite.close()


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


Router = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture(scope="session")
def route(suite: Suite, http: httpx.AsyncClient) -> Router:
    """Looks up the first route (zufi) and lets the demo receiver answer for its destination."""

    async def lookup(leika_key: str, **area: str) -> dict[str, Any]:
        answer = await http.get(f"{suite.url('zufi')}/v1/routes", params={"leikaKey": leika_key, **area})
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()["routes"][0]
        await suite.grant_receiver(http, [str(found["destinationId"])])
        return found

    return lookup
