"""Responsibilities: write them, publish ResponsibilityChanged, patch the routing index."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.contracts.zufi import ResponsibilityChanged
from ozg_zufi import identifiers
from ozg_zufi.errors import InvalidAreaKey, InvalidLeikaKey, ResponsibilityNotFound, UnknownReference
from ozg_zufi.models import Responsibility, utcnow
from ozg_zufi.responsibilities import repository
from ozg_zufi.responsibilities.schemas import ResponsibilityIn, ResponsibilityOut
from ozg_zufi.routing.index import RoutingIndex
from ozg_zufi.state import ZufiState


def responsibility_out(responsibility: Responsibility) -> ResponsibilityOut:
    return ResponsibilityOut(
        id=responsibility.id,
        leika_key=responsibility.leika_key,
        area_id=responsibility.area_ars,
        authority_id=responsibility.authority_id,
        updated_at=responsibility.updated_at,
    )


async def list_responsibilities(
    session: AsyncSession, *, leika_key: str | None, offset: int, limit: int
) -> tuple[list[Responsibility], int]:
    key = None if leika_key is None else identifiers.leika_key(leika_key)
    return await repository.page_of_responsibilities(session, leika_key=key, offset=offset, limit=limit)


async def put_responsibility(
    session: AsyncSession, zufi: ZufiState, data: ResponsibilityIn
) -> Responsibility:
    """Set who does a service in an area (replacing an earlier choice for the same pair)."""
    try:
        leika_key = identifiers.leika_key(data.leika_key)
        ars = identifiers.ars(data.area_id)
    except (InvalidLeikaKey, InvalidAreaKey) as exc:
        raise UnknownReference(exc.detail) from exc
    if not await repository.service_exists(session, leika_key):
        raise UnknownReference(f"No service with LeiKa key {leika_key}.")
    if ars not in zufi.index.areas:
        raise UnknownReference(f"No area has the ARS {ars}.")
    if not await repository.authority_exists(session, data.authority_id):
        raise UnknownReference(f"No authority {data.authority_id}.")
    responsibility = await repository.responsibility_for(session, leika_key, ars)
    if responsibility is None:
        responsibility = Responsibility(id=uuid.uuid4(), leika_key=leika_key, area_ars=ars)
        await repository.add_responsibility(session, responsibility)
    responsibility.authority_id = data.authority_id
    responsibility.updated_at = utcnow()
    await repository.write(session)
    await _published(session, zufi, responsibility, removed=False)
    return responsibility


async def delete_responsibility(session: AsyncSession, zufi: ZufiState, responsibility_id: uuid.UUID) -> None:
    """Remove an explicit responsibility; the level rule (or a wider one) applies again."""
    responsibility = await repository.get_responsibility(session, responsibility_id)
    if responsibility is None:
        raise ResponsibilityNotFound(f"No responsibility {responsibility_id}.")
    await repository.delete_responsibility(session, responsibility)
    await _published(session, zufi, responsibility, removed=True)


async def _published(
    session: AsyncSession, zufi: ZufiState, responsibility: Responsibility, *, removed: bool
) -> None:
    destination_id = await repository.destination_of_authority(session, responsibility.authority_id)
    await zufi.outbox.publish(
        session,
        ResponsibilityChanged(
            responsibility_id=str(responsibility.id),
            leika_key=responsibility.leika_key,
            ars=responsibility.area_ars,
            authority_id=str(responsibility.authority_id),
            destination_id=str(destination_id) if destination_id else None,
            removed=removed,
        ),
    )
    key, ars = responsibility.leika_key, responsibility.area_ars
    authority_id = None if removed else responsibility.authority_id

    def patch(index: RoutingIndex) -> None:
        index.set_responsibility(key, ars, authority_id)

    # The authority now offers the service, the one it replaces perhaps no longer: recompute.
    zufi.patch_on_commit(session, patch, recompute=[key])
