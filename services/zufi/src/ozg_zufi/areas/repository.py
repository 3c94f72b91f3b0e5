"""All SQL of the areas and postal codes."""

import logging

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.bulk import upsert
from ozg_zufi.areas.gemeindeverzeichnis import AreaData
from ozg_zufi.models import Area, PostalCode

logger = logging.getLogger(__name__)


async def areas_imported(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(func.count()).select_from(Area)))


async def store_areas(session: AsyncSession, data: AreaData) -> dict[str, int]:
    """Upsert the areas read and replace the postal code mapping by theirs; what was written."""
    await upsert(session, Area, [record.row() for record in data.areas], key=["ars"])
    await session.execute(delete(PostalCode))
    await session.execute(
        insert(PostalCode),
        [{"postal_code": code, "ars": ars} for code, ars in sorted(data.postal_codes)],
    )
    counts = {
        "areas": len(data.areas),
        "postal_codes": len(data.postal_codes),
        "skipped_postal_rows": data.skipped_postal_rows,
    }
    logger.info("areas imported", extra=counts)
    return counts


async def postal_code_of_areas(session: AsyncSession) -> dict[str, str | None]:
    """The postal code of each area's administration, by ARS (None where the directory has none)."""
    rows = await session.execute(select(Area.ars, Area.postal_code))
    return {row.ars: row.postal_code for row in rows}
