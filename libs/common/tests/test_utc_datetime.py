"""Moments come back from the database with their time zone, on PostgreSQL and on SQLite alike."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, Table, insert, select

from ozg_common.db import Database, new_metadata, utc_datetime
from ozg_testing import fresh_database

metadata = new_metadata()
moments = Table(
    "moments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", utc_datetime(), nullable=False),
)
BERLIN_SUMMER = timezone(timedelta(hours=2))


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    database = await fresh_database(request.param, "test_common_moments", tmp_path, metadata)
    yield database
    await database.dispose()


async def test_a_moment_is_read_back_as_the_same_instant_in_utc(database: Database) -> None:
    written = datetime(2026, 7, 1, 14, 30, 15, 250000, tzinfo=BERLIN_SUMMER)
    async with database.transaction() as session:
        await session.execute(insert(moments).values(id=1, at=written))
    async with database.transaction() as session:
        read = (await session.execute(select(moments.c.at))).scalar_one()
        # Compared in SQL as well: an instant stored as local time would not match.
        later = await session.scalar(
            select(moments.c.id).where(moments.c.at >= datetime(2026, 7, 1, 12, 30, 15, tzinfo=UTC))
        )
    assert read == written
    assert read.utcoffset() == timedelta(0)
    assert later == 1
