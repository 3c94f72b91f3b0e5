"""Queries of the cases this gateway delivered."""

from datetime import datetime
from typing import cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_kop_gateway.models import Case

_cases = cast(Table, Case.__table__)
# Built once: one is executed per delivered application, and a statement object reused keeps its
# cache key and compiled form (a fresh `.values(...)` statement would build both again).
_REGISTER = {
    "postgresql": postgresql.insert(_cases).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(_cases).on_conflict_do_nothing(),
}


async def register(
    session: AsyncSession, case_id: str, submission_id: str, destination_id: str, created_at: datetime
) -> None:
    """Remember which destination may answer the case (the first delivery decides)."""
    await session.execute(
        _REGISTER[session.get_bind().dialect.name],
        {
            "id": case_id,
            "submission_id": submission_id,
            "destination_id": destination_id,
            "created_at": created_at,
        },
    )


async def get(session: AsyncSession, case_id: str, *, for_update: bool = False) -> Case | None:
    return await session.get(Case, case_id, with_for_update=for_update or None)
