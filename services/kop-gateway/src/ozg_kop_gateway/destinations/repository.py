"""Queries of the destination read model and its secrets."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_kop_gateway.models import Destination, WebhookSecret


async def get(session: AsyncSession, destination_id: str) -> Destination | None:
    return await session.get(Destination, destination_id)


def add_destination(session: AsyncSession, destination: Destination) -> None:
    session.add(destination)


def add_secret(session: AsyncSession, secret: WebhookSecret) -> None:
    session.add(secret)


_LIVE_SECRETS = (
    select(WebhookSecret)
    .where(
        WebhookSecret.destination_id.in_(bindparam("ids", expanding=True)),
        or_(WebhookSecret.retires_at.is_(None), WebhookSecret.retires_at > bindparam("now")),
    )
    .order_by(WebhookSecret.created_at.desc())
)
"""Built once: the worker asks at every claim."""


async def live_secrets(
    session: AsyncSession, destination_ids: Iterable[str], now: datetime
) -> list[WebhookSecret]:
    """Secrets that sign now, newest first (the current one, then those in their overlap)."""
    return list(await session.scalars(_LIVE_SECRETS, {"ids": list(set(destination_ids)), "now": now}))


async def retire_current_secrets(session: AsyncSession, destination_id: str, retires_at: datetime) -> None:
    await session.execute(
        update(WebhookSecret)
        .where(
            WebhookSecret.destination_id == destination_id,
            or_(WebhookSecret.retires_at.is_(None), WebhookSecret.retires_at > retires_at),
        )
        .values(retires_at=retires_at)
    )
