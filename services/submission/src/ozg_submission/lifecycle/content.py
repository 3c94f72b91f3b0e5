"""What a submission carries: its payloads in the blob store, and the events that announce it.

Content stays encrypted end to end: the core stores and forwards JWEs without reading them.
"""

import asyncio
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common import jose
from ozg_common.blobstore import StoredBlob
from ozg_common.contracts.submission import AttachmentRef, SubmissionReadyForDelivery, SubmissionSubmitted
from ozg_common.security_events import authentication_tag
from ozg_submission.lifecycle import metadata as fit_connect_metadata
from ozg_submission.lifecycle import repository
from ozg_submission.lifecycle.collaborators import Collaborators
from ozg_submission.models import Destination, Submission


@dataclass(frozen=True, slots=True)
class Payloads:
    """The encrypted metadata and data as just stored (JWE compact strings), and the attachments'
    authentication tags by id."""

    metadata: str | None = None
    data: str | None = None
    attachment_tags: Mapping[str, str] = field(default_factory=dict)

    def authentication_tags(self) -> dict[str, Any]:
        """FIT-Connect `authenticationTags`: the fifth segment of each JWE as received."""
        tags: dict[str, Any] = {}
        if self.metadata is not None:
            tags["metadata"] = authentication_tag(self.metadata)
        if self.data is not None:
            tags["data"] = authentication_tag(self.data)
        return tags | {"attachments": dict(self.attachment_tags)}


def blob_prefix(submission_id: uuid.UUID) -> str:
    """Where every blob of a submission is stored."""
    return f"submissions/{submission_id}"


def new_blob_key(submission_id: uuid.UUID, name: str) -> str:
    # Unique per write: a concurrent or repeated upload never overwrites what a committed row names.
    return f"{blob_prefix(submission_id)}/{name}-{uuid.uuid4().hex}.jwe"


async def store_payloads(
    state: Collaborators, submission: Submission, metadata: bytes | None, data: bytes | None
) -> None:
    """Store the encrypted metadata and data (either may be None) and name them on the submission."""
    if metadata is not None:
        stored = await state.blobs.put(new_blob_key(submission.id, "metadata"), metadata)
        submission.metadata_key, submission.metadata_sha512, submission.metadata_size = _ref(stored)
    if data is not None:
        stored = await state.blobs.put(new_blob_key(submission.id, "data"), data)
        submission.data_key, submission.data_sha512, submission.data_size = _ref(stored)


def _ref(stored: StoredBlob) -> tuple[str, str, int]:
    return stored.key, stored.sha512, stored.size


async def seal_pending_metadata(
    state: Collaborators,
    submission: Submission,
    destination: Destination,
    payment_information: dict[str, Any],
) -> None:
    """Metadata held back for the payment (native intake): add its paymentInformation, check it
    against its schema, encrypt it for the destination and store it."""
    assert submission.pending_metadata is not None
    metadata = submission.pending_metadata | {
        "paymentInformation": fit_connect_metadata.payment_information(payment_information)
    }
    # Checked at intake without the paymentInformation; a failure here parks the payment event and
    # leaves the submission visibly awaiting its payment.
    fit_connect_metadata.check(metadata)
    encrypted = await asyncio.to_thread(
        jose.encrypt,
        json.dumps(metadata, ensure_ascii=False).encode(),
        state.destination_key(destination),
        content_type="application/json",
        kid=destination.encryption_kid,
    )
    await store_payloads(state, submission, encrypted.encode(), None)
    submission.pending_metadata = None
    submission.authentication_tags = (submission.authentication_tags or {}) | {
        "metadata": authentication_tag(encrypted)
    }


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


async def ready_event(
    session: AsyncSession,
    state: Collaborators,
    submission: Submission,
    just_stored: Payloads | None = None,
) -> SubmissionReadyForDelivery:
    """What kop-gateway needs to deliver a forwarded submission, small parts inline.

    `just_stored`: the payloads as the caller just stored them, so they need not be read back.
    """
    settings = state.settings
    base = settings.public_base_url.rstrip("/")
    assert submission.metadata_key is not None
    known = just_stored or Payloads()
    metadata = known.metadata or (await state.blobs.get(submission.metadata_key)).decode()
    budget = settings.event_inline_budget - len(metadata)
    data: str | None = None
    if submission.data_key is not None and (submission.data_size or 0) <= budget:
        data = known.data or (await state.blobs.get(submission.data_key)).decode()
        budget -= len(data)
    refs = []
    # Only announced attachments can be stored: nothing announced, nothing to look up.
    stored = (
        await repository.attachments_of(session, submission.id) if submission.announced_attachments else []
    )
    for attachment in stored:
        content: str | None = None
        if attachment.size <= min(settings.inline_attachment_limit, budget):
            content = (await state.blobs.get(attachment.blob_key)).decode()
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
        authentication_tags=submission.authentication_tags,
    )
