"""The submission service: FIT-Connect Submission API, native intake with XÖV XML, tokens, event log."""

from pathlib import Path

from fastapi import FastAPI

from ozg_common.auth import TokenVerifier
from ozg_common.service import ServiceRuntime, create_service_app
from ozg_submission.applications.endpoints import router as applications
from ozg_submission.callbacks.service import SenderCallbacks
from ozg_submission.cases.endpoints import router as case_events_admin
from ozg_submission.directory.endpoints import router as destinations
from ozg_submission.events import PRODUCES, consumers
from ozg_submission.fitconnect.eventlogs.endpoints import router as event_logs
from ozg_submission.fitconnect.sender.endpoints import router as sender
from ozg_submission.fitconnect.subscriber.endpoints import router as subscriber
from ozg_submission.identity.endpoints import admin
from ozg_submission.identity.endpoints import router as identity
from ozg_submission.identity.service import RegistryRefresh, upsert_bootstrap_clients
from ozg_submission.identity.throttle import TokenThrottle
from ozg_submission.models import Model
from ozg_submission.retention.service import RetentionJob
from ozg_submission.settings import SubmissionSettings
from ozg_submission.state import SubmissionState

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: SubmissionSettings | None = None) -> FastAPI:
    settings = settings or SubmissionSettings()
    state = SubmissionState.build(settings)
    runtime = ServiceRuntime(
        settings=settings,
        metadata=Model.metadata,
        migrations=MIGRATIONS,
        produces=PRODUCES,
        consumers=consumers(state),
        # submission is the issuer: it trusts its own key without asking its own JWKS over HTTP.
        verifier=TokenVerifier(issuer=settings.token_issuer, jwks=state.tokens.jwks()),
    )
    state.attach(runtime)

    async def start(runtime: ServiceRuntime) -> None:
        if settings.bootstrap_clients_file is not None:
            async with runtime.database.transaction() as session:
                await upsert_bootstrap_clients(session, settings.bootstrap_clients_file)
        runtime.spawn("retention", RetentionJob(state).run)
        runtime.spawn("sender-callbacks", SenderCallbacks(state).run)
        runtime.spawn("client-registry", RegistryRefresh(runtime.database, state.verified_secrets).run)

    async def stop(runtime: ServiceRuntime) -> None:
        await state.zufi.close()

    app = create_service_app(
        runtime,
        title="ozg-router submission",
        description=__doc__ or "",
        # Matched in this order, each route's pattern tried in turn: the routes every application
        # takes first (no two routers' paths overlap, so the order changes nothing else).
        routers=[
            applications,
            sender,
            subscriber,
            identity,
            admin,
            destinations,
            event_logs,
            case_events_admin,
        ],
        on_startup=[start],
        on_shutdown=[stop],
    )
    app.state.submission = state
    # Outermost, so that a refused guess skips routing, tracing and the rest of the stack.
    app.add_middleware(
        TokenThrottle,
        attempts=state.token_attempts,
        verified=state.verified_secrets,
        counted=lambda limit: state.metrics.token_throttled.labels(limit).inc(),
    )
    return app
