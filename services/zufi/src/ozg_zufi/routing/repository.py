"""All SQL of routing: what the routing index mirrors, and the fingerprint that tells it moved on."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_zufi.models import Area, Authority, Destination, PostalCode, Responsibility, Service


async def area_rows(session: AsyncSession) -> Sequence[Any]:
    """ars, name, type, kind, kind_code, parent_ars, ags of every area."""
    rows = await session.execute(
        select(Area.ars, Area.name, Area.type, Area.kind, Area.kind_code, Area.parent_ars, Area.ags)
    )
    return rows.all()


async def postal_code_rows(session: AsyncSession) -> Sequence[Any]:
    """(postal code, ARS) pairs, by postal code and ARS."""
    rows = await session.execute(
        select(PostalCode.postal_code, PostalCode.ars).order_by(PostalCode.postal_code, PostalCode.ars)
    )
    return rows.all()


async def service_rows(session: AsyncSession) -> Sequence[Any]:
    """leika_key, name, level, active and the four route texts of every service."""
    rows = await session.execute(
        select(
            Service.leika_key,
            Service.name,
            Service.level,
            Service.active,
            Service.required_documents,
            Service.legal_basis,
            Service.deadline,
            Service.processing_duration,
        )
    )
    return rows.all()


async def authority_rows(session: AsyncSession) -> Sequence[Any]:
    """Every authority's route data, then its postal address and five links, oldest first."""
    rows = await session.execute(
        select(
            Authority.id,
            Authority.name,
            Authority.short_name,
            Authority.area_ars,
            Authority.address,
            Authority.contacts,
            Authority.created_at,
            Authority.postal_address,
            Authority.logo_url,
            Authority.privacy_policy_url,
            Authority.imprint_url,
            Authority.accessibility_url,
            Authority.contact_form_url,
        ).order_by(Authority.created_at, Authority.id)
    )
    return rows.all()


async def destination_rows(session: AsyncSession) -> Sequence[Any]:
    """id, authority_id, status of every destination."""
    return (await session.execute(select(Destination.id, Destination.authority_id, Destination.status))).all()


async def responsibility_rows(session: AsyncSession) -> Sequence[Any]:
    """leika_key, area ARS, authority_id of every explicit responsibility."""
    rows = await session.execute(
        select(Responsibility.leika_key, Responsibility.area_ars, Responsibility.authority_id)
    )
    return rows.all()


async def database_fingerprint(session: AsyncSession) -> str:
    """Changes whenever a row the index mirrors is written or deleted (one cheap query).

    The recompute of the destinations' `services` writes no column read here (see
    `Destination.updated_at`): its own writes must not pass for a change of the routing data.
    """
    tables = (Area, PostalCode, Service, Authority, Destination, Responsibility)
    counts = [select(func.count()).select_from(table).scalar_subquery() for table in tables]
    stamped = (Service, Authority, Destination, Responsibility)
    latest = [select(func.max(table.updated_at)).scalar_subquery() for table in stamped]
    row = (await session.execute(select(*counts, *latest))).one()
    return "|".join(str(value) for value in row)
