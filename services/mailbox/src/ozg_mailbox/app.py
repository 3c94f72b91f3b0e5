"""The mailbox service: the citizen's Postfach and status monitor, email notices and a web page."""

from pathlib import Path

from fastapi import FastAPI

from ozg_common.blobstore import FilesystemBlobStore
from ozg_common.service import ServiceRuntime, create_service_app
from ozg_mailbox.applications.endpoints import admin_router as admin_applications_router
from ozg_mailbox.applications.endpoints import router as applications_router
from ozg_mailbox.events import PRODUCES, consumers
from ozg_mailbox.identity import CitizenLogin
from ozg_mailbox.limits import ReplyBodyLimit, reply_body_limit
from ozg_mailbox.messages.endpoints import router as messages_router
from ozg_mailbox.models import Model
from ozg_mailbox.notices.sender import NoticeSender
from ozg_mailbox.profile.endpoints import router as profile_router
from ozg_mailbox.retention.service import RetentionJob
from ozg_mailbox.settings import MailboxSettings
from ozg_mailbox.web.endpoints import install_web

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: MailboxSettings | None = None) -> FastAPI:
    settings = settings or MailboxSettings()
    blobs = FilesystemBlobStore(settings.blob_root)
    runtime = ServiceRuntime(
        settings=settings,
        metadata=Model.metadata,
        migrations=MIGRATIONS,
        produces=PRODUCES,
        consumers=consumers(blobs),
    )
    notices = NoticeSender(runtime.database, settings)
    retention = RetentionJob(runtime.database, blobs, settings.message_max_age, settings.retention_interval)

    async def start_background_jobs(runtime: ServiceRuntime) -> None:
        runtime.spawn("email-notices", notices.run, restart_delay=5.0)
        runtime.spawn("retention", retention.run, restart_delay=60.0)

    app = create_service_app(
        runtime,
        title="ozg-router mailbox",
        description=__doc__ or "",
        routers=[profile_router, messages_router, applications_router, admin_applications_router],
        on_startup=[start_background_jobs],
    )
    app.state.citizen_login = CitizenLogin.from_settings(settings)
    app.state.blobs = blobs
    app.state.notices = notices
    app.add_middleware(ReplyBodyLimit, limit=reply_body_limit(settings))
    install_web(app)
    return app
