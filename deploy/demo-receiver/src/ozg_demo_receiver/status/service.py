"""What arrived and how far it got, for the status page and the e2e tests."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_demo_receiver.errors import ApplicationNotFound
from ozg_demo_receiver.models import Application, Delivery
from ozg_demo_receiver.status import repository


@dataclass(frozen=True)
class Received:
    """Counts over everything received, and the applications and messages asked for."""

    applications: int
    duplicate_submissions: int
    repeated_deliveries: int
    by_stage: dict[str, int]
    rows: Sequence[Application]
    messages: Sequence[Delivery]
    """Deliveries other than submissions (replies, read receipts), newest first."""


async def received(
    session: AsyncSession, *, submission_id: str | None, case_id: str | None, limit: int | None
) -> Received:
    count, duplicates, repeats, stages = await repository.totals(session)
    rows = await repository.applications(session, submission_id=submission_id, case_id=case_id, limit=limit)
    return Received(
        applications=count,
        duplicate_submissions=duplicates,
        repeated_deliveries=repeats,
        by_stage=stages,
        rows=rows,
        messages=await repository.messages(session, case_id=case_id, limit=limit),
    )


async def application(session: AsyncSession, submission_id: str) -> Application:
    rows = await repository.applications(session, submission_id=submission_id, case_id=None, limit=1)
    if not rows:
        raise ApplicationNotFound(f"No application {submission_id} was received.")
    return rows[0]
