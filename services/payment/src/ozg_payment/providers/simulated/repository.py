"""Queries on the simulated provider's ledger."""

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_payment.models import SimulatedProviderTransaction


async def by_request_id(
    session: AsyncSession, originator_id: str, endpoint_id: str, request_id: str
) -> SimulatedProviderTransaction | None:
    statement = select(SimulatedProviderTransaction).where(
        SimulatedProviderTransaction.originator_id == originator_id,
        SimulatedProviderTransaction.endpoint_id == endpoint_id,
        SimulatedProviderTransaction.request_id == request_id,
    )
    return (await session.scalars(statement)).one_or_none()


async def get(session: AsyncSession, transaction_id: uuid.UUID) -> SimulatedProviderTransaction | None:
    return await session.get(SimulatedProviderTransaction, transaction_id)


async def insert(session: AsyncSession, transaction: SimulatedProviderTransaction) -> bool:
    """Insert; False when a transaction with its requestId exists already."""
    try:
        async with session.begin_nested():
            session.add(transaction)
            await session.flush()
    except IntegrityError:
        return False
    return True
