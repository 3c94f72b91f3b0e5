"""Keeping the read model of zufi's destinations and services (from `zufi.events`)."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.contracts.zufi import DestinationChanged, ServiceChanged
from ozg_common.events import CloudEvent
from ozg_submission.directory import repository


async def on_destination_changed(session: AsyncSession, event: DestinationChanged, _: CloudEvent) -> None:
    destination = await repository.get_destination(session, event.destination_id)
    if destination is None:
        destination = repository.add_destination(session, event.destination_id)
    destination.status = event.status
    destination.name = event.name
    destination.authority_id = event.authority_id
    destination.encryption_kid = event.encryption_kid
    destination.encryption_key = event.encryption_key
    destination.services = event.services
    destination.reply_channels = event.reply_channels
    destination.metadata_versions = event.metadata_versions
    destination.zustellkanal = event.zustellkanal.model_dump(mode="json")
    destination.area_ars = event.area_ars
    destination.signing_key = event.signing_key
    destination.updated_at = datetime.now(UTC)


async def on_service_changed(session: AsyncSession, event: ServiceChanged, _: CloudEvent) -> None:
    service = await repository.get_service(session, event.leika_key)
    if service is None:
        service = repository.add_service(session, event.leika_key)
    service.name = event.name
    service.level = event.level
    service.payment_required = event.payment_required
    service.fees = [fee.model_dump(mode="json") for fee in event.fees]
    service.form_schema = event.form_schema
    service.xml_schema_namespace = event.xml_schema_namespace
    service.active = event.active
    service.updated_at = datetime.now(UTC)
