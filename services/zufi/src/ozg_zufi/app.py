"""The zufi service: app, lifespan and routers."""

from pathlib import Path

from fastapi import FastAPI

from ozg_common.ratelimit import TokenBuckets
from ozg_common.service import ServiceRuntime, create_service_app
from ozg_zufi.areas.endpoints import router as areas_router
from ozg_zufi.authorities.endpoints import admin_router as authorities_admin_router
from ozg_zufi.authorities.endpoints import router as destinations_router
from ozg_zufi.catalogue.endpoints import admin_router as services_admin_router
from ozg_zufi.catalogue.endpoints import router as services_router
from ozg_zufi.events import PRODUCES, consumers
from ozg_zufi.imports.endpoints import admin_router as imports_admin_router
from ozg_zufi.keys_endpoint import router as keys_router
from ozg_zufi.models import Model
from ozg_zufi.ratelimit import RateLimitMiddleware
from ozg_zufi.responsibilities.endpoints import admin_router as responsibilities_admin_router
from ozg_zufi.routing.endpoints import info_router
from ozg_zufi.routing.endpoints import router as routes_router
from ozg_zufi.settings import ZufiSettings
from ozg_zufi.startup import start_zufi
from ozg_zufi.state import ZufiState

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: ZufiSettings | None = None) -> FastAPI:
    settings = settings or ZufiSettings()
    zufi = ZufiState.build(settings)
    runtime = ServiceRuntime(
        settings=settings,
        metadata=Model.metadata,
        migrations=MIGRATIONS,
        produces=PRODUCES,
        consumers=consumers(zufi),
    )
    zufi.attach(runtime)
    app = create_service_app(
        runtime,
        title="ozg-router zufi",
        description=__doc__ or "",
        routers=[
            routes_router,
            info_router,
            areas_router,
            services_router,
            destinations_router,
            keys_router,
            services_admin_router,
            authorities_admin_router,
            responsibilities_admin_router,
            imports_admin_router,
        ],
        on_startup=[start_zufi(zufi)],
    )
    app.state.zufi = zufi
    app.add_middleware(
        RateLimitMiddleware,
        buckets=TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst),
    )
    return app
