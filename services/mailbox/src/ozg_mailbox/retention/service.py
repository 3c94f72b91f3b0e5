"""Retention: messages older than the configured maximum age are deleted for real."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from ozg_common.blobstore import BlobStore
from ozg_common.db import Database
from ozg_mailbox.messages import repository as messages
from ozg_mailbox.messages.service import delete_messages
from ozg_mailbox.notices import repository as notices

logger = logging.getLogger(__name__)

BATCH = 500
NOTICE_KEEP = timedelta(days=30)


async def purge_expired(
    database: Database, blobs: BlobStore, max_age: timedelta, now: datetime | None = None
) -> int:
    """Delete every message older than `max_age` (in batches); returns how many went."""
    now = now or datetime.now(UTC)
    deleted = 0
    while True:
        async with database.transaction() as session:
            expired = await messages.older_than(session, now - max_age, BATCH)
            await delete_messages(session, blobs, expired)
            if len(expired) < BATCH:
                await notices.delete_finished(session, now - NOTICE_KEEP)
        deleted += len(expired)
        if len(expired) < BATCH:
            break
    if deleted:
        logger.info("retention deleted messages", extra={"count": deleted})
    return deleted


class RetentionJob:
    """Runs `purge_expired` every `interval` seconds."""

    def __init__(self, database: Database, blobs: BlobStore, max_age: timedelta, interval: float) -> None:
        self.database = database
        self.blobs = blobs
        self.max_age = max_age
        self.interval = interval

    async def run(self) -> None:
        while True:
            await purge_expired(self.database, self.blobs, self.max_age)
            await asyncio.sleep(self.interval)
