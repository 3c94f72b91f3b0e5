"""The zufi service: app, lifespan and routers."""

from pathlib import Path

from fastapi import FastAPI

from ozg_common.service import ServiceRuntime, create_service_app
from ozg_zufi.events import PRODUCES
from ozg_zufi.models import Model
from ozg_zufi.settings import ZufiSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: ZufiSettings | None = None) -> FastAPI:
    settings = settings or ZufiSettings()
    runtime = ServiceRuntime(
        settings=settings,
        metadata=Model.metadata,
        migrations=MIGRATIONS,
        produces=PRODUCES,
    )
    return create_service_app(
        runtime,
        title="ozg-router zufi",
        description=__doc__ or "",
    )
