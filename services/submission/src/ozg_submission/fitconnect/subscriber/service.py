"""FIT-Connect subscriber side: list the submissions waiting for a destination, fetch one (which
picks it up), fetch its attachments."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.auth import Principal
from ozg_submission.errors import AttachmentNotFound, NotPermitted, SubmissionNotFound
from ozg_submission.identity.scopes import destinations_of, require_subscriber, sees_all_destinations
from ozg_submission.lifecycle import machine, repository
from ozg_submission.lifecycle.repository import VISIBLE_TO_SUBSCRIBER
from ozg_submission.models import Attachment, Submission
from ozg_submission.state import SubmissionState


async def waiting(
    session: AsyncSession, principal: Principal, destination_id: str | None, *, offset: int, limit: int
) -> tuple[int, Sequence[Submission]]:
    """The submissions waiting for the caller's destinations (or for `destination_id` among them):
    how many in all, and one page."""
    own = destinations_of(principal)
    if not own and not sees_all_destinations(principal):
        raise NotPermitted("Only subscribers (destination:<id>) list submissions.")
    if destination_id is not None:
        if not sees_all_destinations(principal) and destination_id not in own:
            raise NotPermitted("This token speaks for another destination.")
        scope: set[str] | None = {destination_id}
    else:
        scope = None if sees_all_destinations(principal) else own
    return await repository.ready_for_pickup(session, scope, offset=offset, limit=limit)


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


@dataclass(frozen=True, slots=True)
class Fetched:
    """A submission as its subscriber fetches it: the encrypted payloads and the attachments' ids."""

    submission: Submission
    encrypted_metadata: str
    encrypted_data: str | None
    attachments: list[uuid.UUID]


async def fetch(
    session: AsyncSession, state: SubmissionState, principal: Principal, submission_id: uuid.UUID
) -> Fetched:
    """A submission with its content; fetched by its destination itself, it is picked up."""
    submission = await for_subscriber(session, principal, submission_id, for_update=True)
    assert submission.metadata_key is not None
    metadata = (await state.blobs.get(submission.metadata_key)).decode()
    data = (await state.blobs.get(submission.data_key)).decode() if submission.data_key else None
    attachments = await repository.attachments_of(session, submission.id)
    if submission.destination_id in principal.scoped_values("destination:"):
        # Operators and the gateway read without picking up: only the destination's own GET counts.
        machine.picked_up(submission, datetime.now(UTC))
    return Fetched(submission, metadata, data, [a.attachment_id for a in attachments])


async def attachment_for_subscriber(
    session: AsyncSession, principal: Principal, submission_id: uuid.UUID, attachment_id: uuid.UUID
) -> Attachment:
    """An attachment of a submission its destination may read."""
    submission = await for_subscriber(session, principal, submission_id)
    attachment = await repository.get_attachment(session, submission.id, attachment_id)
    if attachment is None:
        raise AttachmentNotFound(f"Submission {submission_id} has no attachment {attachment_id}.")
    return attachment
