"""The read model of zufi's destinations and services."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, bindparam, cast, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.bulk import table_of
from ozg_submission.models import Destination, Leistung


async def get_destination(session: AsyncSession, destination_id: str) -> Destination | None:
    return await session.get(Destination, destination_id)


async def get_service(session: AsyncSession, leika_key: str) -> Leistung | None:
    return await session.get(Leistung, leika_key)


def add_destination(session: AsyncSession, destination_id: str) -> Destination:
    """A destination announced for the first time; the caller fills in what was announced."""
    destination = Destination(destination_id=destination_id)
    session.add(destination)
    return destination


def add_service(session: AsyncSession, leika_key: str) -> Leistung:
    """A service announced for the first time; the caller fills in what was announced."""
    service = Leistung(leika_key=leika_key)
    session.add(service)
    return service


async def services_named(session: AsyncSession, leika_keys: list[str]) -> list[Leistung]:
    if not leika_keys:
        return []
    return list((await session.scalars(select(Leistung).where(Leistung.leika_key.in_(leika_keys)))).all())


@dataclass(frozen=True, slots=True)
class OfferedService:
    """What taking an application needs of a catalogue service."""

    leika_key: str
    name: str
    payment_required: bool
    active: bool
    updated_at: datetime
    form_schema: str | None
    """As stored (JSON text): decoded only when its validator is not compiled yet."""
    fees: str
    """As stored (JSON text): decoded only for an application that must wait for its payment."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """What taking an application needs of a destination."""

    destination_id: str
    status: str
    name: str
    authority_id: str
    area_ars: str | None
    services: list[str]
    encryption_kid: str
    encryption_key: str
    """As stored (JSON text): decoded only when its key object is not cached yet."""
    metadata_versions: list[str]


_SERVICES = table_of(Leistung)
_DESTINATIONS = table_of(Destination)
_SERVICE_COLUMNS = (
    _SERVICES.c.leika_key,
    _SERVICES.c.name,
    _SERVICES.c.payment_required,
    _SERVICES.c.active,
    _SERVICES.c.updated_at,
    cast(_SERVICES.c.form_schema, Text).label("form_schema"),
    cast(_SERVICES.c.fees, Text).label("fees"),
)
_DESTINATION_COLUMNS = (
    _DESTINATIONS.c.destination_id,
    _DESTINATIONS.c.status,
    _DESTINATIONS.c.name,
    _DESTINATIONS.c.authority_id,
    _DESTINATIONS.c.area_ars,
    _DESTINATIONS.c.services,
    _DESTINATIONS.c.encryption_kid,
    cast(_DESTINATIONS.c.encryption_key, Text).label("encryption_key"),
    _DESTINATIONS.c.metadata_versions,
)
# Two unrelated rows, each by its primary key, either possibly missing: both outer-joined to one
# constant row, so there is always exactly one row, in one round trip.
_ONE = select(literal(1).label("one")).subquery("one")
_SERVICE_AND_DESTINATION = select(*_SERVICE_COLUMNS, *_DESTINATION_COLUMNS).select_from(
    _ONE.outerjoin(_SERVICES, _SERVICES.c.leika_key == bindparam("leika_key")).outerjoin(
        _DESTINATIONS, _DESTINATIONS.c.destination_id == bindparam("destination_id")
    )
)
_SERVICE_FIELDS = len(_SERVICE_COLUMNS)


async def service_and_destination(
    session: AsyncSession, leika_key: str, destination_id: str
) -> tuple[OfferedService | None, Recipient | None]:
    """A service and a destination (None where there is none), as plain rows in one round trip."""
    # On the session's connection, in its transaction: a Core statement needs no ORM execution.
    connection = await session.connection()
    parameters = {"leika_key": leika_key, "destination_id": destination_id}
    row = (await connection.execute(_SERVICE_AND_DESTINATION, parameters)).one()
    service = OfferedService(*row[:_SERVICE_FIELDS]) if row.leika_key is not None else None
    destination = Recipient(*row[_SERVICE_FIELDS:]) if row.destination_id is not None else None
    return service, destination
