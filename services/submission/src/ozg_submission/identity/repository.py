"""Queries on the client registry."""

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_submission.identity.scopes import ADMIN
from ozg_submission.models import ApiClient


async def get_client(session: AsyncSession, client_id: str, *, for_update: bool = False) -> ApiClient | None:
    query = select(ApiClient).where(ApiClient.client_id == client_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


async def get_clients(session: AsyncSession, client_ids: Collection[str]) -> Sequence[ApiClient]:
    return (await session.scalars(select(ApiClient).where(ApiClient.client_id.in_(client_ids)))).all()


async def list_clients(session: AsyncSession) -> Sequence[ApiClient]:
    return (await session.scalars(select(ApiClient).order_by(ApiClient.client_id))).all()


async def lock_active_administrators(session: AsyncSession) -> list[ApiClient]:
    """The active clients holding the admin scope, locked until the transaction ends, so that two
    administrators removing each other at the same moment cannot both succeed."""
    active = (await session.scalars(select(ApiClient).where(ApiClient.active).with_for_update())).all()
    return [client for client in active if ADMIN in client.scopes]
