"""The submission service: app, lifespan and routers."""

from pathlib import Path

from fastapi import FastAPI

from ozg_common.service import ServiceRuntime, create_service_app
from ozg_submission.events import PRODUCES
from ozg_submission.models import Model
from ozg_submission.settings import SubmissionSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: SubmissionSettings | None = None) -> FastAPI:
    settings = settings or SubmissionSettings()
    runtime = ServiceRuntime(
        settings=settings,
        metadata=Model.metadata,
        migrations=MIGRATIONS,
        produces=PRODUCES,
    )
    return create_service_app(
        runtime,
        title="ozg-router submission",
        description=__doc__ or "",
    )
