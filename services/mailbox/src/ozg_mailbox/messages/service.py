"""Messages: received from authorities and the system, read, answered and deleted by the citizen."""

import base64
import binascii
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.blobstore import BlobNotFound, BlobStore, sha512_hex
from ozg_common.contracts.delivery import CaseReplyCreated, MessageAttachment
from ozg_common.contracts.mailbox import MailboxCitizenReplied, MailboxMessageRead
from ozg_common.outbox import Outbox
from ozg_mailbox.blobs import attachment_key
from ozg_mailbox.errors import (
    AttachmentNotFound,
    InvalidAttachment,
    MessageNotFound,
    ReplyNotPossible,
    ReplyTooLarge,
)
from ozg_mailbox.messages import repository
from ozg_mailbox.models import Application, Attachment, Message, Reply
from ozg_mailbox.notices.service import enqueue_notice
from ozg_mailbox.settings import MailboxSettings

logger = logging.getLogger(__name__)

SYSTEM_SENDER = "Ihr Postfach (automatische Mitteilung)"
MESSAGE_NAMESPACE = uuid.UUID("5d1b7c1e-6b1a-4f0e-9a51-0c9b7b0d4a11")


async def post_system_message(
    session: AsyncSession, application: Application, title: str, content: str, sent_at: datetime
) -> Message:
    """A message the mailbox itself writes, e.g. why an application stopped."""
    message = Message(
        id=uuid.uuid4(),
        application_id=application.id,
        origin="system",
        sender=SYSTEM_SENDER,
        title=title,
        content=content,
        sent_at=sent_at,
        created_at=datetime.now(UTC),
    )
    repository.add(session, message)
    if application.mailbox_id is not None:
        await enqueue_notice(session, application.mailbox_id)
    return message


async def receive_authority_message(
    session: AsyncSession, blobs: BlobStore, application: Application, event: CaseReplyCreated
) -> Message | None:
    """Store the authority's message; attachments whose bytes do not match their sha512/size are left out
    (and the message says so) rather than losing the whole message."""
    message_id = uuid.uuid5(MESSAGE_NAMESPACE, f"{event.case_id}|{event.message_id}")
    if await repository.exists(session, message_id):
        return None
    content = event.content
    attachments: list[Attachment] = []
    rejected: list[str] = []
    for item in event.attachments:
        data = _verified_bytes(item)
        if data is None:
            rejected.append(item.filename)
            logger.warning(
                "attachment failed verification; left out",
                extra={"case_id": event.case_id, "attachment_id": item.attachment_id},
            )
            continue
        attachment = Attachment(
            id=uuid.uuid5(message_id, item.attachment_id),
            message_id=message_id,
            filename=item.filename[:255],
            mime_type=item.mime_type[:255],
            size=len(data),
            sha512=item.sha512.lower(),
        )
        await blobs.put(attachment_key(attachment.id), data)
        attachments.append(attachment)
    if rejected:
        content += (
            "\n\n[Hinweis des Postfachs: Folgende Anhänge waren bei der Übermittlung beschädigt und "
            f"fehlen daher: {', '.join(rejected)}. Bitte wenden Sie sich an die Behörde.]"
        )
    message = Message(
        id=message_id,
        application_id=application.id,
        origin="authority",
        source_message_id=event.message_id,
        destination_id=event.destination_id,
        sender=(event.sender or application.authority_name or "Behörde")[:255],
        title=event.title[:1024] or "(ohne Betreff)",
        content=content,
        reply_address=event.reply_address,
        retrieval_confirmation_address=event.retrieval_confirmation_address,
        sent_at=event.created_at,
        created_at=datetime.now(UTC),
        attachments=attachments,
    )
    repository.add(session, message)
    if application.mailbox_id is not None:
        await enqueue_notice(session, application.mailbox_id)
    return message


def _verified_bytes(item: MessageAttachment) -> bytes | None:
    try:
        data = base64.b64decode(item.content_base64, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(data) != item.size or sha512_hex(data) != item.sha512.lower():
        return None
    return data


async def page(
    session: AsyncSession, mailbox_id: uuid.UUID, *, unread: bool | None, offset: int, limit: int
) -> tuple[Sequence[tuple[Message, Application]], int]:
    """One page of the mailbox's messages (all, only unread or only read), newest first, and how
    many there are in all."""
    return await repository.page(session, mailbox_id, unread=unread, offset=offset, limit=limit)


async def unread_count(session: AsyncSession, mailbox_id: uuid.UUID) -> int:
    return await repository.unread_count(session, mailbox_id)


async def message_in_mailbox(
    session: AsyncSession, mailbox_id: uuid.UUID, message_id: uuid.UUID
) -> tuple[Message, Application]:
    """A message of this mailbox and its application, without marking it read."""
    found = await repository.get_in_mailbox(session, mailbox_id, message_id)
    if found is None:
        raise MessageNotFound()
    return found


async def open_message(
    session: AsyncSession, outbox: Outbox, mailbox_id: uuid.UUID, message_id: uuid.UUID
) -> tuple[Message, Application]:
    """The message; the first opening records the read receipt and tells the authority."""
    found = await repository.get_in_mailbox(session, mailbox_id, message_id)
    if found is None:
        raise MessageNotFound()
    message, application = found
    if message.read_at is None:
        now = datetime.now(UTC)
        # Conditional update: of two concurrent first reads only one sends the receipt.
        marked = await repository.mark_read(session, message.id, now)
        message.read_at = now
        if marked and message.origin == "authority" and message.destination_id:
            await outbox.publish(
                session,
                MailboxMessageRead(
                    case_id=application.case_id,
                    message_id=message.source_message_id or str(message.id),
                    destination_id=message.destination_id,
                    retrieval_confirmation_address=message.retrieval_confirmation_address,
                    read_at=now,
                ),
            )
    return message, application


async def attachment_content(
    session: AsyncSession,
    blobs: BlobStore,
    mailbox_id: uuid.UUID,
    message_id: uuid.UUID,
    attachment_id: uuid.UUID,
) -> tuple[Attachment, bytes]:
    attachment = await repository.attachment_in_mailbox(session, mailbox_id, message_id, attachment_id)
    if attachment is None:
        raise AttachmentNotFound()
    try:
        return attachment, await blobs.get(attachment_key(attachment.id))
    except BlobNotFound:
        raise AttachmentNotFound() from None


@dataclass(frozen=True)
class ReplyFile:
    """A file the citizen attaches to a reply."""

    filename: str
    mime_type: str
    data: bytes


@dataclass(frozen=True)
class ReplyDraft:
    """What the citizen wants to send back."""

    title: str
    content: str
    files: Sequence[ReplyFile] = ()


def decode_base64_file(filename: str, mime_type: str, content_base64: str) -> ReplyFile:
    try:
        data = base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidAttachment(f"The attachment {filename!r} is not valid base64.") from exc
    return ReplyFile(filename=filename, mime_type=mime_type, data=data)


def check_reply_limits(settings: MailboxSettings, draft: ReplyDraft) -> None:
    if len(draft.content) > settings.reply_max_content_chars:
        raise ReplyTooLarge(f"The text may have at most {settings.reply_max_content_chars} characters.")
    if len(draft.files) > settings.reply_max_attachments:
        raise ReplyTooLarge(f"A reply may carry at most {settings.reply_max_attachments} attachments.")
    if sum(len(f.data) for f in draft.files) > settings.reply_max_total_bytes:
        raise ReplyTooLarge(
            f"The attachments may have at most {settings.reply_max_total_bytes} bytes together."
        )


async def reply(
    session: AsyncSession,
    outbox: Outbox,
    settings: MailboxSettings,
    mailbox_id: uuid.UUID,
    message_id: uuid.UUID,
    draft: ReplyDraft,
) -> Reply:
    """Send the citizen's answer to the authority as a follow-up on the same case."""
    found = await repository.get_in_mailbox(session, mailbox_id, message_id)
    if found is None:
        raise MessageNotFound()
    message, application = found
    if message.origin != "authority" or not message.destination_id:
        raise ReplyNotPossible("Automatic messages of the mailbox cannot be answered.")
    check_reply_limits(settings, draft)
    now = datetime.now(UTC)
    files = [
        MessageAttachment(
            attachment_id=str(uuid.uuid4()),
            filename=f.filename,
            mime_type=f.mime_type,
            size=len(f.data),
            sha512=sha512_hex(f.data),
            content_base64=base64.b64encode(f.data).decode(),
        )
        for f in draft.files
    ]
    answer = Reply(
        id=uuid.uuid4(),
        message_id=message.id,
        title=draft.title,
        content=draft.content,
        attachments=[
            {"attachmentId": f.attachment_id, "filename": f.filename, "size": f.size, "sha512": f.sha512}
            for f in files
        ],
        created_at=now,
    )
    repository.add(session, answer)
    await outbox.publish(
        session,
        MailboxCitizenReplied(
            case_id=application.case_id,
            reply_id=str(answer.id),
            in_reply_to=message.source_message_id or str(message.id),
            destination_id=message.destination_id,
            title=draft.title,
            content=draft.content,
            attachments=files,
            replied_at=now,
        ),
    )
    return answer


async def delete_messages(session: AsyncSession, blobs: BlobStore, message_ids: Sequence[uuid.UUID]) -> None:
    """Gone for real: rows (attachments and replies cascade) and, after commit, the files."""
    if not message_ids:
        return
    blobs.delete_after_commit(
        session, [attachment_key(i) for i in await repository.attachment_ids(session, message_ids)]
    )
    await repository.delete_all(session, message_ids)


async def delete_message(
    session: AsyncSession, blobs: BlobStore, mailbox_id: uuid.UUID, message_id: uuid.UUID
) -> None:
    if await repository.get_in_mailbox(session, mailbox_id, message_id) is None:
        raise MessageNotFound()
    await delete_messages(session, blobs, [message_id])
