import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from ozg_common.settings import PROJECT_ROOT
from ozg_payment.settings import PaymentSettings
from ozg_testing import (
    TestTokens,
    serving,
)

sys.path.insert(0, str(Path(__file__).parent))

from payment_testkit import (
    EventLog,
    launch_chromium,
    payment_settings,
    serve_payment,
    shop_app,
)

ARTIFACTS = PROJECT_ROOT / "var" / "test-artifacts"


@pytest.fixture(scope="session")
def tokens() -> TestTokens:
    return TestTokens()


@pytest.fixture(scope="session")
def sender(tokens: TestTokens) -> dict[str, str]:
    return tokens.headers("send", subject="online-dienst-meldewesen")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
async def settings() -> PaymentSettings:
    return await payment_settings("test_payment", recheck_interval=0.5, transaction_timeout=300)


@pytest.fixture(scope="session")
async def base_url(settings: PaymentSettings, tokens: TestTokens) -> AsyncIterator[str]:
    async for url in serve_payment(settings, tokens):
        yield url


@pytest.fixture(scope="session")
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        yield http


@pytest.fixture(scope="session")
async def events(settings: PaymentSettings, base_url: str) -> AsyncIterator[EventLog]:
    log = EventLog(settings.kafka_bootstrap_servers, settings.topic_prefix + "payment.events")
    await log.start()
    yield log
    await log.stop()


@pytest.fixture(scope="session")
async def shop() -> AsyncIterator[str]:
    async with serving(shop_app()) as url:
        yield url + "/zurueck"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await launch_chromium(playwright)
        yield chromium
        await chromium.close()
