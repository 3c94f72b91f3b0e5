"""FIT-Connect sender side: announce a submission, upload its attachments, submit it.

Content stays encrypted end to end: only the JWE headers are read, to check the format.
"""

import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common import jose
from ozg_common.auth import Principal
from ozg_common.blobstore import BlobTooLarge
from ozg_common.bulk import single_write
from ozg_submission.callbacks import service as callbacks
from ozg_submission.callbacks.schemas import CallbackSetup
from ozg_submission.directory.repository import service_and_destination
from ozg_submission.directory.service import existing_destination, require_existing, usable_destination
from ozg_submission.errors import (
    AttachmentNotAnnounced,
    InvalidApplication,
    InvalidJwe,
    JweHeaderInvalid,
    MissingAttachments,
    SubmissionNotFound,
    SubmissionStateInvalid,
    TooLarge,
)
from ozg_submission.identity.scopes import SEND, require_sender_may_send
from ozg_submission.lifecycle import machine, repository
from ozg_submission.lifecycle.content import Payloads, new_blob_key, store_payloads
from ozg_submission.lifecycle.machine import Announced
from ozg_submission.models import Attachment, Submission, SubmissionStatus
from ozg_submission.state import SubmissionState


@dataclass(frozen=True, slots=True)
class NewSubmission:
    """What a sender announces before uploading anything."""

    destination_id: str
    leika_key: str
    service_name: str
    announced_attachments: list[uuid.UUID]
    origin: str
    case_id: uuid.UUID | None = None
    joins_case: bool = False
    """True: `case_id` names an existing case this submission adds to (FIT-Connect); else a new one."""
    mailbox_uuid: str | None = None
    payment_transaction_id: str | None = None
    callback: CallbackSetup | None = None
    """Where the sender wants to hear of new events on the submission."""


def check_jwe(token: str, *, what: str, require_cty: bool) -> jose.JweHeader:
    """Structure and algorithms of a JWE we pass through unread."""
    try:
        header = jose.read_header(token)
    except jose.UnsupportedJweAlgorithm as exc:
        raise JweHeaderInvalid(f"{what}: {exc}.") from exc
    except jose.InvalidJwe as exc:
        raise InvalidJwe(f"{what}: {exc}.") from exc
    if require_cty and not header.cty:
        raise JweHeaderInvalid(f"{what}: the JWE header lacks cty (application/json or application/xml).")
    return header


async def create(
    session: AsyncSession,
    state: SubmissionState,
    principal: Principal,
    new: NewSubmission,
) -> Announced:
    """A new, incomplete submission (FIT-Connect `POST /v1/submissions`).

    Its only write inserts the submission and its first event-log entry in one statement; the
    service and the destination are read as plain rows, the submission is never an ORM object.
    """
    settings = state.settings
    await single_write(session)
    leistung, destination = await service_and_destination(session, new.leika_key, new.destination_id)
    destination = existing_destination(destination, new.destination_id)
    usable_destination(destination, new.leika_key)
    require_sender_may_send(principal, new.leika_key, destination.area_ars)
    if len(new.announced_attachments) > settings.max_attachments:
        raise TooLarge(f"At most {settings.max_attachments} attachments per submission.")
    if len(set(new.announced_attachments)) != len(new.announced_attachments):
        raise InvalidApplication("announcedAttachments names an attachment twice.")
    if new.joins_case and new.case_id is not None:
        earlier = await repository.of_case(session, new.case_id)
        if not earlier or any(s.destination_id != new.destination_id for s in earlier):
            raise InvalidApplication(f"Case {new.case_id} does not exist for this destination.")
    announced = Announced(
        id=uuid.uuid4(), case_id=new.case_id or uuid.uuid4(), destination_id=new.destination_id
    )
    # The log starts with the sender's own create-submission: nothing to tell it about.
    also = (
        [callbacks.registration(settings, announced.id, new.callback, announced_entries=1)]
        if new.callback is not None
        else []
    )
    await machine.create(
        session,
        announced,
        {
            "sender_client_id": principal.client_id or principal.subject,
            "leika_key": new.leika_key,
            "service_name": leistung.name if leistung else new.service_name,
            "origin": new.origin,
            "announced_attachments": [str(a) for a in new.announced_attachments],
            "payment_required": bool(leistung and leistung.payment_required),
            "payment_transaction_id": new.payment_transaction_id,
            "mailbox_uuid": new.mailbox_uuid,
        },
        also=also,
    )
    return announced


def _own(principal: Principal, submission_id: uuid.UUID, submission: Submission | None) -> Submission:
    """The caller's own submission; another sender's is as unknown as a missing one."""
    if (
        submission is None
        or submission.status == SubmissionStatus.DELETED
        or not principal.has(SEND)
        or submission.sender_client_id != (principal.client_id or principal.subject)
    ):
        raise SubmissionNotFound(f"No submission {submission_id}.")
    return submission


async def sent_by(
    session: AsyncSession, principal: Principal, submission_id: uuid.UUID, *, for_update: bool = False
) -> Submission:
    """The caller's own submission."""
    return _own(
        principal,
        submission_id,
        await repository.get_submission(session, submission_id, for_update=for_update),
    )


def _still_open(submission: Submission) -> None:
    if submission.status != SubmissionStatus.INCOMPLETE:
        raise SubmissionStateInvalid(
            f"Submission {submission.id} was already submitted ({submission.status})."
        )


async def _checked_jwe_stream(chunks: AsyncIterable[bytes], what: str) -> AsyncIterator[bytes]:
    """Pass the upload through while checking it is one JWE compact string, header first."""
    head = b""
    header_seen = False
    dots = 0
    async for chunk in chunks:
        dots += chunk.count(b".")
        if not header_seen:
            head += chunk
            if b"." in head:
                check_jwe(
                    head.split(b".", 1)[0].decode("ascii", "replace") + ".a.b.c.d",
                    what=what,
                    require_cty=False,
                )
                header_seen = True
            elif len(head) > jose.MAX_HEADER_BYTES:
                raise InvalidJwe(f"{what}: no JWE header found.")
        yield chunk
    if dots != 4 or not header_seen:
        raise InvalidJwe(f"{what}: a JWE compact string has five base64url parts.")


async def upload_attachment(
    session: AsyncSession,
    state: SubmissionState,
    principal: Principal,
    submission_id: uuid.UUID,
    attachment_id: uuid.UUID,
    chunks: AsyncIterable[bytes],
    content_length: int | None,
) -> None:
    """Store one announced attachment (FIT-Connect `PUT …/attachments/{id}`)."""
    settings = state.settings
    submission = await sent_by(session, principal, submission_id)
    _still_open(submission)
    if str(attachment_id) not in submission.announced_attachments:
        raise AttachmentNotAnnounced(f"Attachment {attachment_id} was not announced.")
    if content_length is not None and content_length > settings.max_attachment_bytes:
        raise TooLarge(f"An attachment may have at most {settings.max_attachment_bytes} bytes.")
    key = new_blob_key(submission.id, f"attachment-{attachment_id}")
    try:
        stored = await state.blobs.put_stream(
            key, _checked_jwe_stream(chunks, "attachment"), max_size=settings.max_attachment_bytes
        )
    except BlobTooLarge as exc:
        raise TooLarge(f"An attachment may have at most {settings.max_attachment_bytes} bytes.") from exc
    try:
        # The upload may have taken minutes: lock and look again before recording it.
        submission = await sent_by(session, principal, submission_id, for_update=True)
        _still_open(submission)
        existing = await repository.get_attachment(session, submission.id, attachment_id)
        others = sum(
            a.size for a in await repository.attachments_of(session, submission.id) if a is not existing
        )
        if others + stored.size > settings.max_submission_bytes:
            raise TooLarge(f"A submission may have at most {settings.max_submission_bytes} bytes.")
        if existing is not None:
            await state.blobs.delete(existing.blob_key)
        await repository.replace_attachment(
            session,
            existing,
            Attachment(
                submission_id=submission.id,
                attachment_id=attachment_id,
                blob_key=stored.key,
                size=stored.size,
                sha512=stored.sha512,
                uploaded_at=datetime.now(UTC),
            ),
        )
    except BaseException:
        await state.blobs.delete(stored.key)
        raise


async def submit(
    session: AsyncSession,
    state: SubmissionState,
    principal: Principal,
    submission_id: uuid.UUID,
    *,
    encrypted_metadata: str,
    encrypted_data: str | None,
) -> Submission:
    """Complete a submission (FIT-Connect `PUT /v1/submissions/{id}`): forwarded, or awaiting payment.

    The row lock serialises concurrent submits: the first one completes it, the others then find
    it no longer incomplete. The submission is read as a row, not tracked by the session: its
    changes are written in the same statement as its event-log entries and events.
    """
    check_jwe(encrypted_metadata, what="encryptedMetadata", require_cty=False)
    if encrypted_data is not None:
        check_jwe(encrypted_data, what="encryptedData", require_cty=True)
    submission, destination = await repository.locked_with_destination(session, submission_id)
    submission = _own(principal, submission_id, submission)
    _still_open(submission)
    # Only announced attachments can be uploaded: nothing announced, nothing to look up.
    attachments = (
        await repository.attachments_of(session, submission.id) if submission.announced_attachments else []
    )
    uploaded = {str(a.attachment_id) for a in attachments}
    missing = [a for a in submission.announced_attachments if a not in uploaded]
    if missing:
        raise MissingAttachments(
            f"{len(missing)} announced attachments were not uploaded.", missingAttachments=missing
        )
    size = len(encrypted_metadata) + len(encrypted_data or "") + sum(a.size for a in attachments)
    if size > state.settings.max_submission_bytes:
        raise TooLarge(f"A submission may have at most {state.settings.max_submission_bytes} bytes.")
    # The destination may have been deleted since the submission was announced.
    require_existing(destination.status, submission.destination_id)
    assert destination.name is not None
    await store_payloads(
        state, submission, encrypted_metadata.encode(), (encrypted_data or "").encode() or None
    )
    stored = Payloads(metadata=encrypted_metadata, data=encrypted_data or None)
    await machine.submit(session, state, submission, destination.name, stored)
    return submission
