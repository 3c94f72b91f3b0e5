"""The area import: the Gemeindeverzeichnis into the database, idempotently (upsert)."""

import asyncio
import logging
from pathlib import Path

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.bulk import upsert
from ozg_zufi.areas.gemeindeverzeichnis import AreaData, read_area_data
from ozg_zufi.models import Area, PostalCode

logger = logging.getLogger(__name__)


async def areas_imported(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(func.count()).select_from(Area)))


async def import_areas(session: AsyncSession, directory: Path) -> dict[str, int]:
    """Upsert every area and replace the postal code mapping; running it twice changes nothing."""
    return await store_areas(session, await asyncio.to_thread(read_area_data, directory))


async def store_areas(session: AsyncSession, data: AreaData) -> dict[str, int]:
    """Write what `read_area_data` read (the import's second half, for callers that check it first)."""
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
