"""The service catalogue: write a Leistung, publish ServiceChanged, patch the routing index."""

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.contracts.zufi import FeeItem as FeeItemEvent
from ozg_common.contracts.zufi import ServiceChanged
from ozg_zufi.catalogue import repository
from ozg_zufi.catalogue.schemas import FeeItem, ServiceIn, ServiceOut
from ozg_zufi.errors import ServiceNotFound
from ozg_zufi.models import Service, utcnow
from ozg_zufi.routing.index import RoutingIndex, ServiceEntry, route_texts
from ozg_zufi.state import ZufiState


def service_out(service: Service) -> ServiceOut:
    return ServiceOut.model_validate(
        {
            "leika_key": service.leika_key,
            "identifier": ServiceOut.urn(service.leika_key),
            "name": service.name,
            "level": service.level,
            "payment_required": service.payment_required,
            "fees": service.fees,
            "form_schema": service.form_schema,
            "xml_schema_namespace": service.xml_schema_namespace,
            "xml_schema_location": service.xml_schema_location,
            "active": service.active,
            "required_documents": service.required_documents,
            "legal_basis": service.legal_basis,
            "deadline": service.deadline,
            "processing_duration": service.processing_duration,
            "updated_at": service.updated_at,
        }
    )


def service_changed(service: Service) -> ServiceChanged:
    return ServiceChanged(
        leika_key=service.leika_key,
        name=service.name,
        level=service.level,  # type: ignore[arg-type]  # the column only ever holds a Level
        payment_required=service.payment_required,
        fees=[FeeItemEvent(**FeeItem.model_validate(fee).model_dump(by_alias=False)) for fee in service.fees],
        form_schema=service.form_schema,
        xml_schema_namespace=service.xml_schema_namespace,
        active=service.active,
    )


def service_row(leika_key: str, data: ServiceIn) -> dict[str, object]:
    """The column values of a Leistung (fees stored camelCase, as the API shows them)."""
    return {
        "leika_key": leika_key,
        "name": data.name,
        "level": data.level,
        "payment_required": data.payment_required,
        "fees": [fee.model_dump(mode="json") for fee in data.fees],
        "form_schema": data.form_schema,
        "xml_schema_namespace": data.xml_schema_namespace,
        "xml_schema_location": data.xml_schema_location,
        "active": data.active,
        "required_documents": data.required_documents,
        "legal_basis": data.legal_basis,
        "deadline": data.deadline,
        "processing_duration": None
        if data.processing_duration is None
        else data.processing_duration.model_dump(exclude_none=True),
        "updated_at": utcnow(),
    }


async def get_service(session: AsyncSession, leika_key: str) -> Service:
    service = await repository.get_service(session, leika_key)
    if service is None:
        raise ServiceNotFound(f"No service with LeiKa key {leika_key}.")
    return service


async def list_services(session: AsyncSession, *, offset: int, limit: int) -> tuple[list[Service], int]:
    return await repository.page_of_services(session, offset=offset, limit=limit)


async def put_service(session: AsyncSession, zufi: ZufiState, leika_key: str, data: ServiceIn) -> Service:
    """Create or replace a Leistung."""
    service = await repository.get_service(session, leika_key)
    values = service_row(leika_key, data)
    if service is None:
        service = Service(**values)
        await repository.add_service(session, service)
    else:
        for name, value in values.items():
            setattr(service, name, value)
    await repository.write(session)
    await _published(session, zufi, service)
    return service


async def deactivate_service(session: AsyncSession, zufi: ZufiState, leika_key: str) -> Service:
    """Take a Leistung out of routing; it stays in the catalogue as inactive."""
    service = await get_service(session, leika_key)
    service.active = False
    service.updated_at = utcnow()
    await repository.write(session)
    await _published(session, zufi, service)
    return service


async def _published(session: AsyncSession, zufi: ZufiState, service: Service) -> None:
    await zufi.outbox.publish(session, service_changed(service))
    entry = ServiceEntry(
        service.leika_key,
        service.name,
        service.level,
        service.active,
        route_texts(
            service.required_documents, service.legal_basis, service.deadline, service.processing_duration
        ),
    )

    def patch(index: RoutingIndex) -> None:
        index.set_service(entry)

    # Which destinations offer it follows in the background (a Gemeinde service has ~11,000).
    zufi.patch_on_commit(session, patch, recompute=[entry.leika_key])
