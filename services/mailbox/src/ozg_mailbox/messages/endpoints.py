"""`/v1/mailbox/messages`: list, read, download, answer and delete."""

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Response, status

from ozg_common.db import SessionDep
from ozg_common.pagination import LIMIT_DEFAULT, Limit, Offset
from ozg_common.problems import Unauthorized, problem_responses
from ozg_common.service import EventsUnavailable, KafkaWritable
from ozg_mailbox.dependencies import MailboxDep
from ozg_mailbox.errors import (
    AttachmentNotFound,
    InvalidAttachment,
    MessageNotFound,
    NotACitizen,
    ReplyNotPossible,
    ReplyTooLarge,
)
from ozg_mailbox.messages import service
from ozg_mailbox.messages.schemas import MessagePage, MessageRead, MessageSummary, ReplyCreate, ReplyRead
from ozg_mailbox.state import StateDep

router = APIRouter(prefix="/v1/mailbox/messages", tags=["messages"])

AUTH_ERRORS = (Unauthorized, NotACitizen)


@router.get("", response_model=MessagePage, responses=problem_responses(*AUTH_ERRORS))
async def list_messages(
    session: SessionDep,
    mailbox: MailboxDep,
    unread: Annotated[bool | None, Query(description="only unread (true) or only read (false)")] = None,
    offset: Offset = 0,
    limit: Limit = LIMIT_DEFAULT,
) -> MessagePage:
    """The citizen's messages, newest first."""
    rows, total = await service.page(session, mailbox.id, unread=unread, offset=offset, limit=limit)
    return MessagePage(
        count=len(rows),
        offset=offset,
        total_count=total,
        messages=[MessageSummary.of(m, a) for m, a in rows],
    )


@router.get(
    "/{message_id}", response_model=MessageRead, responses=problem_responses(*AUTH_ERRORS, MessageNotFound)
)
async def read_message(
    message_id: uuid.UUID, session: SessionDep, state: StateDep, mailbox: MailboxDep
) -> MessageRead:
    """One message; the first read sends the read receipt to the authority."""
    message, application = await service.open_message(session, state.outbox, mailbox.id, message_id)
    return MessageRead.of(message, application)


@router.get(
    "/{message_id}/attachments/{attachment_id}",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        **problem_responses(*AUTH_ERRORS, AttachmentNotFound),
    },
)
async def download_attachment(
    message_id: uuid.UUID,
    attachment_id: uuid.UUID,
    session: SessionDep,
    state: StateDep,
    mailbox: MailboxDep,
) -> Response:
    """The attachment's bytes, as the authority sent them."""
    attachment, data = await service.attachment_content(
        session, state.blobs, mailbox.id, message_id, attachment_id
    )
    return attachment_response(attachment.filename, attachment.mime_type, attachment.sha512, data)


def attachment_response(filename: str, mime_type: str, sha512: str, data: bytes) -> Response:
    """Always a download, never rendered in our origin (the content comes from outside)."""
    return Response(
        content=data,
        media_type=mime_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "Digest": f"sha-512={sha512}",
        },
    )


@router.post(
    "/{message_id}/replies",
    status_code=status.HTTP_201_CREATED,
    response_model=ReplyRead,
    dependencies=[KafkaWritable],
    responses=problem_responses(
        *AUTH_ERRORS, EventsUnavailable, MessageNotFound, ReplyNotPossible, ReplyTooLarge, InvalidAttachment
    ),
)
async def reply_to_message(
    message_id: uuid.UUID,
    body: ReplyCreate,
    session: SessionDep,
    state: StateDep,
    mailbox: MailboxDep,
) -> ReplyRead:
    """Answer the authority; the reply travels as a follow-up on the same case."""
    draft = service.ReplyDraft(
        title=body.title,
        content=body.content,
        files=[
            service.decode_base64_file(a.filename, a.mime_type, a.content_base64) for a in body.attachments
        ],
    )
    answer = await service.reply(session, state.outbox, state.settings, mailbox.id, message_id, draft)
    return ReplyRead.of(answer)


@router.delete(
    "/{message_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*AUTH_ERRORS, MessageNotFound),
)
async def delete_message(
    message_id: uuid.UUID, session: SessionDep, state: StateDep, mailbox: MailboxDep
) -> Response:
    """Delete the message and its attachments for good."""
    await service.delete_message(session, state.blobs, mailbox.id, message_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
