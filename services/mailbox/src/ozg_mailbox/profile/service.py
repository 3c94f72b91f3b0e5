"""The mailbox and its profile: created at first sight, email kept in step with the login."""

import uuid
from datetime import UTC, datetime
from typing import Annotated, cast

from fastapi import Depends
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.bulk import insert_ignoring_duplicates
from ozg_common.db import SessionDep
from ozg_mailbox.identity import Citizen, CitizenDep
from ozg_mailbox.models import Mailbox


async def ensure_mailbox(session: AsyncSession, mailbox_id: uuid.UUID) -> Mailbox:
    """The mailbox with this id; created empty if nobody has seen it yet (safe under concurrency)."""
    mailbox = await session.get(Mailbox, mailbox_id)
    if mailbox is None:
        await create_mailbox_if_missing(session, mailbox_id)
        mailbox = await session.get(Mailbox, mailbox_id)
    assert mailbox is not None
    return mailbox


async def create_mailbox_if_missing(session: AsyncSession, mailbox_id: uuid.UUID) -> None:
    """The mailbox row exists afterwards; one statement, nothing loaded (safe under concurrency)."""
    await insert_ignoring_duplicates(
        session, cast(Table, Mailbox.__table__), {"id": mailbox_id, "created_at": datetime.now(UTC)}
    )


async def open_mailbox(session: AsyncSession, citizen: Citizen) -> Mailbox:
    """The citizen's mailbox, with the login's email (unless they chose one) and trust level."""
    mailbox = await ensure_mailbox(session, citizen.mailbox_id)
    if citizen.email and mailbox.email_source != "profile" and mailbox.email != citizen.email:
        mailbox.email = citizen.email
        mailbox.email_source = "token"
    if citizen.stork_qaa_level and mailbox.stork_qaa_level != citizen.stork_qaa_level:
        mailbox.stork_qaa_level = citizen.stork_qaa_level
    return mailbox


async def record_login(session: AsyncSession, citizen: Citizen) -> Mailbox:
    mailbox = await open_mailbox(session, citizen)
    mailbox.last_login_at = datetime.now(UTC)
    return mailbox


def set_email(mailbox: Mailbox, email: str | None) -> None:
    """The citizen's own choice wins over the token's claim; `None` follows the token again."""
    mailbox.email = email
    mailbox.email_source = "profile" if email else None


async def current_mailbox(session: SessionDep, citizen: CitizenDep) -> Mailbox:
    return await open_mailbox(session, citizen)


MailboxDep = Annotated[Mailbox, Depends(current_mailbox)]
