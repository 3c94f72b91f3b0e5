"""The payment service: app, lifespan and routers."""

from pathlib import Path

from fastapi import FastAPI

from ozg_common.service import ServiceRuntime, create_service_app
from ozg_payment.events import PRODUCES
from ozg_payment.models import Model
from ozg_payment.settings import PaymentSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: PaymentSettings | None = None) -> FastAPI:
    settings = settings or PaymentSettings()
    runtime = ServiceRuntime(
        settings=settings,
        metadata=Model.metadata,
        migrations=MIGRATIONS,
        produces=PRODUCES,
    )
    return create_service_app(
        runtime,
        title="ozg-router payment",
        description=__doc__ or "",
    )
