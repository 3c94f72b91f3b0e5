"""The submission lifecycle: create, upload, submit, wait for payment, forward, pick up, decide.

Content stays encrypted end to end: only the JWE headers are read, to check the format.
"""

import asyncio
import json
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common import jose
from ozg_common.auth import Principal
from ozg_common.blobstore import BlobTooLarge, StoredBlob
from ozg_common.bulk import RowUpdate, insert_rows, row_of, single_write, table_of
from ozg_common.contracts.submission import AttachmentRef, SubmissionReadyForDelivery, SubmissionSubmitted
from ozg_common.events import Event
from ozg_submission.context import SubmissionContext
from ozg_submission.directory.repository import Recipient, service_and_destination
from ozg_submission.directory.service import existing_destination, find_destination, require_existing
from ozg_submission.errors import (
    AttachmentNotAnnounced,
    AttachmentNotFound,
    DestinationStateInvalid,
    InvalidApplication,
    InvalidJwe,
    JweHeaderInvalid,
    MissingAttachments,
    NotPermitted,
    ServiceNotOffered,
    SubmissionNotFound,
    SubmissionStateInvalid,
    TooLarge,
)
from ozg_submission.eventlog import service as eventlog
from ozg_submission.eventlog.tokens import CREATE, FORWARD, SUBMIT
from ozg_submission.identity.scopes import SEND, is_party_of, require_sender_may_send, require_subscriber
from ozg_submission.models import (
    Attachment,
    EventLogEntry,
    Payment,
    Submission,
    SubmissionStatus,
    outbox_table,
)
from ozg_submission.submissions import repository
from ozg_submission.submissions.repository import VISIBLE_TO_SUBSCRIBER

PAYED = "PAYED"
EVENT_LOG = table_of(EventLogEntry)


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


@dataclass(frozen=True, slots=True)
class Payloads:
    """The encrypted metadata and data as just stored (JWE compact strings)."""

    metadata: str | None = None
    data: str | None = None


def blob_prefix(submission_id: uuid.UUID) -> str:
    return f"submissions/{submission_id}"


def new_blob_key(submission_id: uuid.UUID, name: str) -> str:
    # Unique per write: a concurrent or repeated upload never overwrites what a committed row names.
    return f"{blob_prefix(submission_id)}/{name}-{uuid.uuid4().hex}.jwe"


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


def usable_destination(destination: Recipient, leika_key: str) -> None:
    if destination.status != "active":
        raise DestinationStateInvalid(f"Destination {destination.destination_id} is {destination.status}.")
    if leika_key not in destination.services:
        raise ServiceNotOffered(
            f"Destination {destination.destination_id} does not offer service {leika_key}."
        )


@dataclass(frozen=True, slots=True)
class Announced:
    """A submission just created: what its sender is told."""

    id: uuid.UUID
    case_id: uuid.UUID
    destination_id: str


async def create(
    session: AsyncSession,
    context: SubmissionContext,
    principal: Principal,
    new: NewSubmission,
) -> Announced:
    """A new, incomplete submission (FIT-Connect `POST /v1/submissions`).

    Its only write inserts the submission and its first event-log entry in one statement; the
    service and the destination are read as plain rows, the submission is never an ORM object.
    """
    settings = context.settings
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
    now = datetime.now(UTC)
    announced = Announced(
        id=uuid.uuid4(), case_id=new.case_id or uuid.uuid4(), destination_id=new.destination_id
    )
    submission = row_of(
        Submission,
        {
            "id": announced.id,
            "case_id": announced.case_id,
            "destination_id": new.destination_id,
            "sender_client_id": principal.client_id or principal.subject,
            "leika_key": new.leika_key,
            "service_name": leistung.name if leistung else new.service_name,
            "origin": new.origin,
            "status": SubmissionStatus.INCOMPLETE,
            "announced_attachments": [str(a) for a in new.announced_attachments],
            "payment_required": bool(leistung and leistung.payment_required),
            "payment_transaction_id": new.payment_transaction_id,
            "mailbox_uuid": new.mailbox_uuid,
            "reminders_sent": 0,
            "created_at": now,
            "last_event_at": now,
        },
    )
    await insert_rows(
        session,
        [(table_of(Submission), [submission]), (EVENT_LOG, [eventlog.entry(announced, CREATE, now)])],
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
    context: SubmissionContext,
    principal: Principal,
    submission_id: uuid.UUID,
    attachment_id: uuid.UUID,
    chunks: AsyncIterable[bytes],
    content_length: int | None,
) -> None:
    """Store one announced attachment (FIT-Connect `PUT …/attachments/{id}`)."""
    settings = context.settings
    submission = await sent_by(session, principal, submission_id)
    _still_open(submission)
    if str(attachment_id) not in submission.announced_attachments:
        raise AttachmentNotAnnounced(f"Attachment {attachment_id} was not announced.")
    if content_length is not None and content_length > settings.max_attachment_bytes:
        raise TooLarge(f"An attachment may have at most {settings.max_attachment_bytes} bytes.")
    key = new_blob_key(submission.id, f"attachment-{attachment_id}")
    try:
        stored = await context.blobs.put_stream(
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
            await context.blobs.delete(existing.blob_key)
            await session.delete(existing)
            await session.flush()
        session.add(
            Attachment(
                submission_id=submission.id,
                attachment_id=attachment_id,
                blob_key=stored.key,
                size=stored.size,
                sha512=stored.sha512,
                uploaded_at=datetime.now(UTC),
            )
        )
    except BaseException:
        await context.blobs.delete(stored.key)
        raise


async def submit(
    session: AsyncSession,
    context: SubmissionContext,
    principal: Principal,
    submission_id: uuid.UUID,
    *,
    encrypted_metadata: str,
    encrypted_data: str | None,
) -> Submission:
    """Complete a submission (FIT-Connect `PUT /v1/submissions/{id}`).

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
    if size > context.settings.max_submission_bytes:
        raise TooLarge(f"A submission may have at most {context.settings.max_submission_bytes} bytes.")
    # The destination may have been deleted since the submission was announced.
    require_existing(destination.status, submission.destination_id)
    assert destination.name is not None
    await store_payloads(
        context, submission, encrypted_metadata.encode(), (encrypted_data or "").encode() or None
    )
    stored = Payloads(metadata=encrypted_metadata, data=encrypted_data or None)
    await complete(session, context, submission, destination.name, stored)
    return submission


async def store_payloads(
    context: SubmissionContext, submission: Submission, metadata: bytes | None, data: bytes | None
) -> None:
    if metadata is not None:
        stored = await context.blobs.put(new_blob_key(submission.id, "metadata"), metadata)
        submission.metadata_key, submission.metadata_sha512, submission.metadata_size = _ref(stored)
    if data is not None:
        stored = await context.blobs.put(new_blob_key(submission.id, "data"), data)
        submission.data_key, submission.data_sha512, submission.data_size = _ref(stored)


def _ref(stored: StoredBlob) -> tuple[str, str, int]:
    return stored.key, stored.sha512, stored.size


def submitted_event(submission: Submission, authority_name: str) -> SubmissionSubmitted:
    """What everyone hears of a submission the moment it is submitted."""
    assert submission.submitted_at is not None
    return SubmissionSubmitted(
        case_id=str(submission.case_id),
        submission_id=str(submission.id),
        destination_id=submission.destination_id,
        leika_key=submission.leika_key,
        service_name=submission.service_name,
        authority_name=authority_name,
        mailbox_uuid=submission.mailbox_uuid,
        payment_required=submission.payment_required,
        payment_transaction_id=submission.payment_transaction_id,
        submitted_at=submission.submitted_at,
    )


async def complete(
    session: AsyncSession,
    context: SubmissionContext,
    submission: Submission,
    authority_name: str,
    stored: Payloads,
) -> None:
    """Submitted: tell everyone, then forward, or wait for the payment the service requires.

    `submission` is not tracked by the session: its changes, the event-log entries and the events
    are written in one statement.
    """
    payment = None
    if submission.payment_required:
        payment = await repository.payment_for(
            session, case_id=submission.case_id, transaction_id=submission.payment_transaction_id
        )
    now = datetime.now(UTC)
    submission.status = SubmissionStatus.SUBMITTED
    submission.submitted_at = now
    log = [_logged(submission, SUBMIT, now)]
    published: list[Event] = [submitted_event(submission, authority_name)]
    if submission.payment_required and (payment is None or payment.status != PAYED):
        submission.status = SubmissionStatus.AWAITING_PAYMENT
        submission.payment_status = payment.status if payment else None
    else:
        if payment is not None:
            # Paid before it was submitted. Only the native intake holds metadata back for the
            # paymentInformation (`settle`); a FIT-Connect sender encrypted its own.
            _take_payment(submission, payment)
        log.append(_forwarded(submission, now))
        published.append(await ready_event(session, context, submission, stored))
    await _write_log_and_events(
        session, context, log, published, updating=repository.submitted_changes(submission)
    )
    context.metrics.submissions.labels(submission.origin, submission.status).inc()


def _take_payment(submission: Submission, payment: Payment) -> None:
    """The payment that settles the submission, as it was last reported."""
    submission.payment_status = payment.status
    submission.payment_transaction_id = payment.transaction_id


async def settle(
    session: AsyncSession, context: SubmissionContext, submission: Submission, payment: Payment
) -> None:
    """The payment arrived: attach its paymentInformation where we still can, and forward."""
    _take_payment(submission, payment)
    if submission.pending_metadata is not None:
        metadata = submission.pending_metadata | {"paymentInformation": payment.payment_information}
        destination = await find_destination(session, submission.destination_id)
        key = context.destination_key(destination)
        encrypted = await asyncio.to_thread(
            jose.encrypt,
            json.dumps(metadata, ensure_ascii=False).encode(),
            key,
            content_type="application/json",
            kid=destination.encryption_kid,
        )
        await store_payloads(context, submission, encrypted.encode(), None)
        submission.pending_metadata = None
    await forward(session, context, submission)


async def forward(session: AsyncSession, context: SubmissionContext, submission: Submission) -> None:
    """Ready for the destination: the event carries what kop-gateway needs to deliver it."""
    log = [_forwarded(submission, datetime.now(UTC))]
    await _write_log_and_events(session, context, log, [await ready_event(session, context, submission)])
    context.metrics.submissions.labels(submission.origin, submission.status).inc()


def _logged(submission: Submission, event: str, at: datetime) -> dict[str, Any]:
    """The row of an event-log entry, now the latest event of the submission."""
    submission.last_event_at = at
    return eventlog.entry(submission, event, at)


def _forwarded(submission: Submission, at: datetime) -> dict[str, Any]:
    submission.status = SubmissionStatus.FORWARDED
    submission.forwarded_at = at
    return _logged(submission, FORWARD, at)


async def _write_log_and_events(
    session: AsyncSession,
    context: SubmissionContext,
    log: list[dict[str, Any]],
    events: list[Event],
    *,
    updating: RowUpdate | None = None,
) -> None:
    """Append-only rows need no unit of work: one INSERT for the entries and the outbox rows (and
    the UPDATE of `updating`'s row)."""
    await insert_rows(
        session, [(EVENT_LOG, log), (outbox_table, context.outbox.rows(events))], updating=updating
    )


async def ready_event(
    session: AsyncSession,
    context: SubmissionContext,
    submission: Submission,
    just_stored: Payloads | None = None,
) -> SubmissionReadyForDelivery:
    """`just_stored`: the payloads as the caller just stored them, so they need not be read back."""
    settings = context.settings
    base = settings.public_base_url.rstrip("/")
    assert submission.metadata_key is not None
    known = just_stored or Payloads()
    metadata = known.metadata or (await context.blobs.get(submission.metadata_key)).decode()
    budget = settings.event_inline_budget - len(metadata)
    data: str | None = None
    if submission.data_key is not None and (submission.data_size or 0) <= budget:
        data = known.data or (await context.blobs.get(submission.data_key)).decode()
        budget -= len(data)
    refs = []
    # Only announced attachments can be stored: nothing announced, nothing to look up.
    stored = (
        await repository.attachments_of(session, submission.id) if submission.announced_attachments else []
    )
    for attachment in stored:
        content: str | None = None
        if attachment.size <= min(settings.inline_attachment_limit, budget):
            content = (await context.blobs.get(attachment.blob_key)).decode()
            budget -= attachment.size
        refs.append(
            AttachmentRef(
                attachment_id=str(attachment.attachment_id),
                size=attachment.size,
                sha512=attachment.sha512,
                download_url=f"{base}/v1/submissions/{submission.id}/attachments/{attachment.attachment_id}",
                content=content,
            )
        )
    return SubmissionReadyForDelivery(
        case_id=str(submission.case_id),
        submission_id=str(submission.id),
        destination_id=submission.destination_id,
        leika_key=submission.leika_key,
        service_name=submission.service_name,
        encrypted_metadata=metadata,
        encrypted_data=data,
        attachments=refs,
        submission_url=f"{base}/v1/submissions/{submission.id}",
    )


async def for_subscriber(
    session: AsyncSession, principal: Principal, submission_id: uuid.UUID, *, for_update: bool = False
) -> Submission:
    """A submission its destination may read: forwarded and not deleted."""
    submission = await repository.get_submission(session, submission_id, for_update=for_update)
    if submission is None:
        raise SubmissionNotFound(f"No submission {submission_id}.")
    require_subscriber(principal, submission.destination_id)
    if submission.status not in VISIBLE_TO_SUBSCRIBER:
        raise SubmissionNotFound(f"Submission {submission_id} is not available ({submission.status}).")
    return submission


def mark_picked_up(principal: Principal, submission: Submission) -> None:
    """The destination itself fetched it: for FIT-Connect subscribers that is the delivery."""
    if submission.destination_id not in principal.scoped_values("destination:"):
        return
    if submission.picked_up_at is None:
        submission.picked_up_at = datetime.now(UTC)
    if submission.status == SubmissionStatus.FORWARDED:
        submission.status = SubmissionStatus.DELIVERED


async def payloads(context: SubmissionContext, submission: Submission) -> tuple[str, str | None]:
    assert submission.metadata_key is not None
    metadata = (await context.blobs.get(submission.metadata_key)).decode()
    data = (await context.blobs.get(submission.data_key)).decode() if submission.data_key else None
    return metadata, data


async def attachment_for_subscriber(
    session: AsyncSession, principal: Principal, submission_id: uuid.UUID, attachment_id: uuid.UUID
) -> Attachment:
    submission = await for_subscriber(session, principal, submission_id)
    attachment = await repository.get_attachment(session, submission.id, attachment_id)
    if attachment is None:
        raise AttachmentNotFound(f"Submission {submission_id} has no attachment {attachment_id}.")
    return attachment


async def visible_submission(
    session: AsyncSession, principal: Principal, submission_id: uuid.UUID
) -> Submission:
    """For event logs: the sender, the destination or an operator."""
    submission = await repository.get_submission(session, submission_id)
    if submission is None:
        raise SubmissionNotFound(f"No submission {submission_id}.")
    if not is_party_of(
        principal, sender_client_id=submission.sender_client_id, destination_id=submission.destination_id
    ):
        raise NotPermitted("Only the sender, the destination or an operator may read this.")
    return submission


def summary(submission: Submission) -> dict[str, Any]:
    return {
        "destinationId": submission.destination_id,
        "submissionId": str(submission.id),
        "caseId": str(submission.case_id),
    }
