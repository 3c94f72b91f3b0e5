"""The kop-gateway service: delivers applications to the municipalities' KOP webservices, and carries
the authorities' answers back (return channel)."""

from pathlib import Path

from fastapi import FastAPI

from ozg_common.service import ServiceRuntime, create_service_app
from ozg_kop_gateway.cases.endpoints import router as cases_router
from ozg_kop_gateway.deliveries.endpoints import router as deliveries_router
from ozg_kop_gateway.destinations.endpoints import router as destinations_router
from ozg_kop_gateway.events import PRODUCES, consumers
from ozg_kop_gateway.keys_endpoint import router as keys_router
from ozg_kop_gateway.limits import BodyLimit
from ozg_kop_gateway.models import Model
from ozg_kop_gateway.settings import KopGatewaySettings
from ozg_kop_gateway.state import GatewayState

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: KopGatewaySettings | None = None) -> FastAPI:
    settings = settings or KopGatewaySettings()
    state = GatewayState.build(settings)
    runtime = ServiceRuntime(
        settings=settings,
        metadata=Model.metadata,
        migrations=MIGRATIONS,
        produces=PRODUCES,
        consumers=consumers(state),
    )
    state.attach(runtime)
    worker = state.delivery_worker()

    async def start_worker(runtime: ServiceRuntime) -> None:
        runtime.spawn("delivery-worker", worker.run)

    app = create_service_app(
        runtime,
        title="ozg-router kop-gateway",
        description=__doc__ or "",
        routers=[cases_router, deliveries_router, destinations_router, keys_router],
        on_startup=[start_worker],
    )
    app.state.gateway = state
    app.add_middleware(BodyLimit, max_bytes=settings.reply_max_bytes, pattern=r"/v1/cases/[^/]+/replies")
    return app
