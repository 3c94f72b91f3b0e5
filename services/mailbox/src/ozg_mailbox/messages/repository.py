"""Queries on messages; every citizen-facing query is bound to one mailbox."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from ozg_mailbox.models import Application, Attachment, Message, Reply


class MessageHeader(NamedTuple):
    """What can be told about a message without its content."""

    id: uuid.UUID
    origin: str
    sender: str
    title: str
    created_at: datetime
    read_at: datetime | None


def _in_mailbox(mailbox_id: uuid.UUID) -> Select[Message, Application]:
    return (
        select(Message, Application)
        .join(Application, Application.id == Message.application_id)
        .where(Application.mailbox_id == mailbox_id)
    )


async def page(
    session: AsyncSession, mailbox_id: uuid.UUID, *, unread: bool | None, offset: int, limit: int
) -> tuple[Sequence[tuple[Message, Application]], int]:
    """Newest first."""
    query = _in_mailbox(mailbox_id)
    if unread is True:
        query = query.where(Message.read_at.is_(None))
    elif unread is False:
        query = query.where(Message.read_at.is_not(None))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(Message.created_at.desc(), Message.id.desc()).offset(offset).limit(limit)
    )
    return [(m, a) for m, a in rows], int(total or 0)


async def unread_count(session: AsyncSession, mailbox_id: uuid.UUID) -> int:
    query = _in_mailbox(mailbox_id).where(Message.read_at.is_(None)).subquery()
    return int(await session.scalar(select(func.count()).select_from(query)) or 0)


async def get_in_mailbox(
    session: AsyncSession, mailbox_id: uuid.UUID, message_id: uuid.UUID
) -> tuple[Message, Application] | None:
    query = (
        _in_mailbox(mailbox_id)
        .where(Message.id == message_id)
        .options(selectinload(Message.attachments), selectinload(Message.replies))
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def attachment_in_mailbox(
    session: AsyncSession, mailbox_id: uuid.UUID, message_id: uuid.UUID, attachment_id: uuid.UUID
) -> Attachment | None:
    query = (
        select(Attachment)
        .join(Message, Message.id == Attachment.message_id)
        .join(Application, Application.id == Message.application_id)
        .where(
            Attachment.id == attachment_id,
            Message.id == message_id,
            Application.mailbox_id == mailbox_id,
        )
    )
    return await session.scalar(query)


async def count_for_application(session: AsyncSession, application_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(Message).where(Message.application_id == application_id)
    return int(await session.scalar(query) or 0)


async def headers_of_application(session: AsyncSession, application_id: uuid.UUID) -> list[MessageHeader]:
    """The messages of an application oldest first, without their content."""
    query = (
        select(Message.id, Message.origin, Message.sender, Message.title, Message.created_at, Message.read_at)
        .where(Message.application_id == application_id)
        .order_by(Message.created_at, Message.id)
    )
    return [MessageHeader(*row) for row in await session.execute(query)]


async def attachment_ids(session: AsyncSession, message_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    query = select(Attachment.id).where(Attachment.message_id.in_(message_ids))
    return list(await session.scalars(query))


async def older_than(session: AsyncSession, cutoff: datetime, limit: int) -> list[uuid.UUID]:
    query = select(Message.id).where(Message.created_at < cutoff).order_by(Message.created_at).limit(limit)
    return list(await session.scalars(query))


def add(session: AsyncSession, row: Message | Reply) -> None:
    session.add(row)


async def exists(session: AsyncSession, message_id: uuid.UUID) -> bool:
    return await session.get(Message, message_id) is not None


async def mark_read(session: AsyncSession, message_id: uuid.UUID, now: datetime) -> bool:
    """Set the read time unless one is set; true for the one caller that set it."""
    marked = await session.execute(
        update(Message).where(Message.id == message_id, Message.read_at.is_(None)).values(read_at=now)
    )
    return getattr(marked, "rowcount", 0) == 1


async def delete_all(session: AsyncSession, message_ids: Sequence[uuid.UUID]) -> None:
    """Delete the messages; their attachments and replies cascade."""
    await session.execute(delete(Message).where(Message.id.in_(message_ids)))
