"""Queries on mailboxes."""

import uuid
from datetime import datetime
from typing import cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.bulk import insert_ignoring_duplicates
from ozg_mailbox.models import Mailbox


async def get(session: AsyncSession, mailbox_id: uuid.UUID) -> Mailbox | None:
    return await session.get(Mailbox, mailbox_id)


async def create_if_missing(session: AsyncSession, mailbox_id: uuid.UUID, created_at: datetime) -> None:
    """The mailbox row exists afterwards; one statement, nothing loaded (safe under concurrency)."""
    await insert_ignoring_duplicates(
        session, cast(Table, Mailbox.__table__), {"id": mailbox_id, "created_at": created_at}
    )
