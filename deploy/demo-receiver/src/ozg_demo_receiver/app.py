"""The demo receiver: a municipality's Fachverfahren at the end of the KOP delivery.

It is not one of the suite's services (no Kafka, no outbox): it only speaks HTTP, like the
specialist software of a real authority — signed deliveries in, return-channel calls out.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from ozg_common import migrations
from ozg_common.db import Database
from ozg_common.health import install_health
from ozg_common.logging import configure_logging
from ozg_common.metrics import ServiceMetrics, install_metrics
from ozg_common.openapi import install_openapi
from ozg_common.problems import install_problem_handlers
from ozg_demo_receiver.control.endpoints import router as control_router
from ozg_demo_receiver.control.state import Control
from ozg_demo_receiver.kop.endpoints import router as kop_router
from ozg_demo_receiver.kop.repository import DeliveryStore
from ozg_demo_receiver.processing.return_channel import ReturnChannel
from ozg_demo_receiver.processing.tokens import SubscriberTokens
from ozg_demo_receiver.processing.worker import Clerk
from ozg_demo_receiver.settings import DemoReceiverSettings
from ozg_demo_receiver.status.endpoints import router as status_router

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: DemoReceiverSettings | None = None) -> FastAPI:
    settings = settings or DemoReceiverSettings()
    settings.master_secret()  # refuse to start with a placeholder secret
    configure_logging(settings.service_name, settings.log_level)
    database = Database(settings.database_url, pool_size=settings.database_pool_size)
    control = Control.from_settings(settings)
    metrics = ServiceMetrics(settings.service_name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await migrations.upgrade(database, MIGRATIONS)
        async with httpx.AsyncClient(timeout=30) as http:
            tokens = SubscriberTokens(http, f"{settings.submission_url}/token", settings.client_credentials)
            clerk = Clerk(database, settings, control, ReturnChannel(http, settings.kop_gateway_url, tokens))
            app.state.worker = clerk
            task = asyncio.create_task(clerk.run(), name="clerk")
            try:
                yield
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                await database.dispose()

    app = FastAPI(title="ozg-router demo receiver", description=__doc__ or "", lifespan=lifespan)
    app.state.settings = settings
    app.state.database = database
    app.state.deliveries = DeliveryStore(database)
    app.state.control = control
    install_problem_handlers(app)
    install_metrics(app, metrics)

    async def database_ready() -> bool:
        await database.ping()
        return True

    install_health(app, {"database": database_ready})
    for router in (kop_router, status_router, control_router):
        app.include_router(router)
    install_openapi(app, token_url=f"{settings.submission_url}/token")
    return app
