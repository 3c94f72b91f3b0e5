"""The area import: the Gemeindeverzeichnis into the database, idempotently (upsert)."""

import asyncio
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_zufi.areas.gemeindeverzeichnis import read_area_data
from ozg_zufi.areas.repository import store_areas


async def import_areas(session: AsyncSession, directory: Path) -> dict[str, int]:
    """Upsert every area and replace the postal code mapping; running it twice changes nothing."""
    return await store_areas(session, await asyncio.to_thread(read_area_data, directory))
