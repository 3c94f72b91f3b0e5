"""Queries of the cases this gateway delivered."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.bulk import insert_ignoring_duplicates
from ozg_kop_gateway.models import Case


async def register(
    session: AsyncSession,
    case_id: str,
    submission_id: str,
    destination_id: str,
    created_at: datetime,
    authentication_tags: dict[str, Any] | None,
) -> None:
    """Remember which destination may answer the case (the first delivery decides)."""
    await insert_ignoring_duplicates(
        session,
        Case.__table__,  # type: ignore[arg-type]
        {
            "id": case_id,
            "submission_id": submission_id,
            "destination_id": destination_id,
            "created_at": created_at,
            "authentication_tags": authentication_tags,
        },
    )


async def get(session: AsyncSession, case_id: str, *, for_update: bool = False) -> Case | None:
    return await session.get(Case, case_id, with_for_update=for_update or None)
