"""The kop-gateway service: delivers applications to the municipalities' KOP webservices, and carries
the authorities' answers back (return channel)."""

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from ozg_common.contracts.topics import DELIVERY, MAILBOX, SUBMISSION, ZUFI
from ozg_common.outbox import event_source
from ozg_common.service import ConsumerSpec, ServiceRuntime, create_service_app
from ozg_kop_gateway.cases.endpoints import router as cases_router
from ozg_kop_gateway.cases.service import decision_recorder
from ozg_kop_gateway.deliveries.endpoints import router as deliveries_router
from ozg_kop_gateway.deliveries.intake import DeliveryIntake
from ozg_kop_gateway.deliveries.lanes import LaneLimits, Lanes
from ozg_kop_gateway.deliveries.metrics import DeliveryMetrics
from ozg_kop_gateway.deliveries.policy import RetryPolicy
from ozg_kop_gateway.deliveries.reminders import PickupReminders
from ozg_kop_gateway.deliveries.service import Deliveries
from ozg_kop_gateway.deliveries.worker import DeliveryWorker
from ozg_kop_gateway.dependencies import Gateway
from ozg_kop_gateway.destinations.endpoints import router as destinations_router
from ozg_kop_gateway.destinations.secrets import SecretBox
from ozg_kop_gateway.destinations.service import SigningSecrets, apply_destination_changed
from ozg_kop_gateway.events import (
    PRODUCES,
    CaseAccepted,
    CaseRejected,
    CitizenReplyReadyForDelivery,
    DestinationChanged,
    MailboxMessageRead,
    SubmissionPickupReminder,
    SubmissionReadyForDelivery,
)
from ozg_kop_gateway.limits import BodyLimit
from ozg_kop_gateway.models import Model
from ozg_kop_gateway.settings import KopGatewaySettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: KopGatewaySettings | None = None) -> FastAPI:
    settings = settings or KopGatewaySettings()
    horizon = timedelta(seconds=settings.retry_horizon)
    intake = DeliveryIntake(horizon)
    reminders = PickupReminders(intake)
    decisions = decision_recorder(event_source(settings.service_name))
    runtime = ServiceRuntime(
        settings=settings,
        metadata=Model.metadata,
        migrations=MIGRATIONS,
        produces=PRODUCES,
        consumers=[
            ConsumerSpec(
                group_id="kop-gateway-destinations",
                topics=[ZUFI],
                handlers={DestinationChanged: apply_destination_changed},
            ),
            ConsumerSpec(
                group_id="kop-gateway-decisions",
                topics=[DELIVERY],
                handlers={CaseAccepted: decisions, CaseRejected: decisions},
            ),
            ConsumerSpec(
                group_id="kop-gateway-deliveries",
                topics=[SUBMISSION, MAILBOX],
                handlers={
                    SubmissionReadyForDelivery: intake.on_submission_ready,
                    CitizenReplyReadyForDelivery: intake.on_citizen_reply,
                    MailboxMessageRead: intake.on_message_read,
                    SubmissionPickupReminder: reminders.on_pickup_reminder,
                },
            ),
        ],
    )
    metrics = DeliveryMetrics(runtime.metrics.registry)
    runtime.metrics.refreshers.append(lambda: metrics.refresh_backlog(runtime.database))
    gateway = Gateway(
        settings=settings,
        outbox=runtime.outbox,
        deliveries=Deliveries(runtime.outbox, RetryPolicy.from_settings(settings), horizon, metrics),
        signing=SigningSecrets(SecretBox(settings.encryption_key_bytes), settings.signing_master_secret),
        lanes=Lanes(LaneLimits.from_settings(settings)),
    )
    worker = DeliveryWorker(
        runtime.database, gateway.deliveries, gateway.signing, gateway.lanes, settings, metrics
    )

    async def start_worker(runtime: ServiceRuntime) -> None:
        runtime.spawn("delivery-worker", worker.run)

    app = create_service_app(
        runtime,
        title="ozg-router kop-gateway",
        description=__doc__ or "",
        routers=[cases_router, deliveries_router, destinations_router],
        on_startup=[start_worker],
    )
    app.state.gateway = gateway
    app.add_middleware(BodyLimit, max_bytes=settings.reply_max_bytes, pattern=r"/v1/cases/[^/]+/replies")
    return app
