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
from ozg_common.health import install_health
from ozg_common.logging import configure_logging
from ozg_common.metrics import ServiceMetrics, install_metrics
from ozg_common.openapi import install_openapi
from ozg_common.problems import install_problem_handlers
from ozg_demo_receiver.control.endpoints import router as control_router
from ozg_demo_receiver.kop.endpoints import router as kop_router
from ozg_demo_receiver.settings import DemoReceiverSettings
from ozg_demo_receiver.state import ReceiverState
from ozg_demo_receiver.status.endpoints import router as status_router

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: DemoReceiverSettings | None = None) -> FastAPI:
    settings = settings or DemoReceiverSettings()
    settings.master_secret()  # refuse to start with a placeholder secret
    configure_logging(settings.service_name, settings.log_level)
    state = ReceiverState.build(settings)
    database = state.database
    metrics = ServiceMetrics(settings.service_name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await migrations.upgrade(database, MIGRATIONS)
        async with httpx.AsyncClient(timeout=30) as http:
            clerk = state.hire_clerk(http)
            task = asyncio.create_task(clerk.run(), name="clerk")
            try:
                yield
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                await database.dispose()

    app = FastAPI(title="ozg-router demo receiver", description=__doc__ or "", lifespan=lifespan)
    app.state.receiver = state
    # The session dependency of ozg_common.db opens its transactions on this database.
    app.state.database = database
    install_problem_handlers(app)
    install_metrics(app, metrics)

    async def database_ready() -> None:
        await database.ping()

    install_health(app, {"database": database_ready})
    for router in (kop_router, status_router, control_router):
        app.include_router(router)
    install_openapi(app, token_url=f"{settings.submission_url}/token")
    return app
