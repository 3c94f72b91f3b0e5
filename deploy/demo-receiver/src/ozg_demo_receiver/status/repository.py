"""Reading what the receiver holds."""

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_demo_receiver.models import Application, Delivery


async def applications(
    session: AsyncSession, *, submission_id: str | None, case_id: str | None, limit: int | None
) -> Sequence[Application]:
    query = select(Application).order_by(Application.received_at.desc())
    if submission_id:
        query = query.where(Application.submission_id == submission_id)
    if case_id:
        query = query.where(Application.case_id == case_id)
    return (await session.scalars(query.limit(limit))).all()


async def messages(session: AsyncSession, *, case_id: str | None, limit: int | None) -> Sequence[Delivery]:
    query = select(Delivery).where(Delivery.kind != "submission").order_by(Delivery.received_at.desc())
    if case_id:
        query = query.where(Delivery.case_id == case_id)
    return (await session.scalars(query.limit(limit))).all()


async def totals(session: AsyncSession) -> tuple[int, int, int, dict[str, int]]:
    count, duplicates = (
        await session.execute(
            select(func.count(), func.count().filter(Application.deliveries > 1)).select_from(Application)
        )
    ).one()
    repeats = await session.scalar(select(func.coalesce(func.sum(Delivery.repeats), 0)))
    stages = (
        await session.execute(select(Application.stage, func.count()).group_by(Application.stage))
    ).all()
    return int(count), int(duplicates), int(repeats or 0), {str(stage): int(n) for stage, n in stages}
