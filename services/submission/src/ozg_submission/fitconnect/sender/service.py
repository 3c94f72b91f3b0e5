"""FIT-Connect sender side: announce a submission, upload its attachments, submit it.

Content stays encrypted end to end: only the JWE headers are read, to check the format.
"""

import re
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
from ozg_submission.directory.repository import get_destination, service_and_destination
from ozg_submission.directory.service import (
    existing_destination,
    leika_identifier,
    require_existing,
    usable_destination,
)
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


DATA_TYPES = frozenset({"application/json", "application/xml"})
"""What `encryptedData` may contain (its JWE's `cty`)."""
METADATA_TYPES = frozenset({"application/json"})
"""What `encryptedMetadata` may contain: a JSON document."""


def _media_type(cty: str) -> str:
    """`cty` as a media type: RFC 7516 lets it omit `application/`, and parameters do not count."""
    value = cty.split(";", 1)[0].strip().lower()
    return value if "/" in value else f"application/{value}"


MAX_TAG_CHARS = 64
"""Longer than any GCM tag in base64url (A256GCM's is 22 characters)."""
_TAG = re.compile(rb"^[A-Za-z0-9_-]+$")


def _is_tag(segment: bytes) -> bool:
    """Is this a JWE's fifth segment, a base64url authentication tag?"""
    return len(segment) <= MAX_TAG_CHARS and _TAG.match(segment) is not None


def check_jwe(
    token: str, *, what: str, require_cty: bool, content_types: frozenset[str] | None = None
) -> jose.JweHeader:
    """Structure and algorithms of a JWE we pass through unread; its `cty`, if stated, one of
    `content_types` (None: any)."""
    try:
        header = jose.read_header(token)
    except jose.UnsupportedJweAlgorithm as exc:
        raise JweHeaderInvalid(f"{what}: {exc}.") from exc
    except jose.InvalidJwe as exc:
        raise InvalidJwe(f"{what}: {exc}.") from exc
    if not _is_tag(token.strip().rsplit(".", 1)[1].encode()):
        raise InvalidJwe(f"{what}: the fifth part of a JWE is its base64url authentication tag.")
    if require_cty and not header.cty:
        raise JweHeaderInvalid(f"{what}: the JWE header lacks cty (application/json or application/xml).")
    if content_types is not None and header.cty and _media_type(header.cty) not in content_types:
        raise JweHeaderInvalid(f"{what}: cty {header.cty} is not one of {', '.join(sorted(content_types))}.")
    return header


def require_kid(header: jose.JweHeader, kid: str | None, *, what: str) -> None:
    """A JWE that names its key must name the destination's (`kid`, None: unknown), or the
    destination could not decrypt it."""
    if header.kid is not None and kid is not None and header.kid != kid:
        raise JweHeaderInvalid(
            f"{what}: encrypted for key {header.kid}, not for the destination's key {kid}."
        )


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
            "service_name": (leistung.name if leistung else new.service_name)
            or leika_identifier(new.leika_key),
            "origin": new.origin,
            "announced_attachments": [str(a) for a in new.announced_attachments],
            # The federal service never holds a submission for its fee (the sender's own ePayment
            # takes it): only a transaction opened at our payment service decides (`machine.submit`).
            "payment_required": new.payment_transaction_id is not None,
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


@dataclass
class _Tail:
    """The last segment of a JWE passed through: its authentication tag, once the stream ended."""

    segment: bytes = b""

    def tag(self) -> str:
        return self.segment.strip().decode("ascii")


async def _checked_jwe_stream(
    chunks: AsyncIterable[bytes], what: str, kid: str | None, tail: _Tail
) -> AsyncIterator[bytes]:
    """Pass the upload through while checking it is one JWE compact string, header first, for the
    destination's key `kid`, and keep its last segment in `tail`."""
    head = b""
    header_seen = False
    dots = 0
    async for chunk in chunks:
        dots += chunk.count(b".")
        # Only the end is kept: too long to be a tag is all a check needs to know.
        after_dot = chunk.rsplit(b".", 1)[1] if b"." in chunk else tail.segment + chunk
        tail.segment = after_dot[-(MAX_TAG_CHARS + 3) :]
        if not header_seen:
            head += chunk
            if b"." in head:
                header = check_jwe(
                    head.split(b".", 1)[0].decode("ascii", "replace") + ".a.b.c.d",
                    what=what,
                    require_cty=False,
                )
                require_kid(header, kid, what=what)
                header_seen = True
            elif len(head) > jose.MAX_HEADER_BYTES:
                raise InvalidJwe(f"{what}: no JWE header found.")
        yield chunk
    if dots != 4 or not header_seen:
        raise InvalidJwe(f"{what}: a JWE compact string has five base64url parts.")
    if not _is_tag(tail.segment.strip()):
        raise InvalidJwe(f"{what}: the fifth part of a JWE is its base64url authentication tag.")


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
    destination = await get_destination(session, submission.destination_id)
    kid = destination.encryption_kid if destination else None
    key = new_blob_key(submission.id, f"attachment-{attachment_id}")
    tail = _Tail()
    try:
        stored = await state.blobs.put_stream(
            key, _checked_jwe_stream(chunks, "attachment", kid, tail), max_size=settings.max_attachment_bytes
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
                authentication_tag=tail.tag(),
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
    headers = {
        "encryptedMetadata": check_jwe(
            encrypted_metadata, what="encryptedMetadata", require_cty=False, content_types=METADATA_TYPES
        )
    }
    if encrypted_data is not None:
        headers["encryptedData"] = check_jwe(
            encrypted_data, what="encryptedData", require_cty=True, content_types=DATA_TYPES
        )
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
    for what, header in headers.items():
        require_kid(header, destination.encryption_kid, what=what)
    await store_payloads(
        state, submission, encrypted_metadata.encode(), (encrypted_data or "").encode() or None
    )
    stored = Payloads(
        metadata=encrypted_metadata,
        data=encrypted_data or None,
        attachment_tags={
            str(a.attachment_id): a.authentication_tag for a in attachments if a.authentication_tag
        },
    )
    await machine.submit(session, state, submission, destination.name, stored)
    return submission
