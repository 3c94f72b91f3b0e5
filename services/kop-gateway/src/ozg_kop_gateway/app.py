"""The kop-gateway service: app, lifespan and routers."""

from pathlib import Path

from fastapi import FastAPI

from ozg_common.service import ServiceRuntime, create_service_app
from ozg_kop_gateway.events import PRODUCES
from ozg_kop_gateway.models import Model
from ozg_kop_gateway.settings import KopGatewaySettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: KopGatewaySettings | None = None) -> FastAPI:
    settings = settings or KopGatewaySettings()
    runtime = ServiceRuntime(
        settings=settings,
        metadata=Model.metadata,
        migrations=MIGRATIONS,
        produces=PRODUCES,
    )
    return create_service_app(
        runtime,
        title="ozg-router kop-gateway",
        description=__doc__ or "",
    )
