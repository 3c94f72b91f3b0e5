"""The mailbox service: app, lifespan and routers."""

from pathlib import Path

from fastapi import FastAPI

from ozg_common.service import ServiceRuntime, create_service_app
from ozg_mailbox.events import PRODUCES
from ozg_mailbox.models import Model
from ozg_mailbox.settings import MailboxSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: MailboxSettings | None = None) -> FastAPI:
    settings = settings or MailboxSettings()
    runtime = ServiceRuntime(
        settings=settings,
        metadata=Model.metadata,
        migrations=MIGRATIONS,
        produces=PRODUCES,
    )
    return create_service_app(
        runtime,
        title="ozg-router mailbox",
        description=__doc__ or "",
    )
