"""Appending to a case's event log."""

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_submission.eventlog.tokens import EventSigner, event_uri
from ozg_submission.models import EventLogEntry, Submission


def append(session: AsyncSession, submission: Submission, event: str, token: str) -> None:
    """Record a SET (ours or the destination's) in the case's log; entries are never changed."""
    now = datetime.now(UTC)
    session.add(
        EventLogEntry(
            case_id=submission.case_id,
            submission_id=submission.id,
            event_type=event_uri(event),
            token=token,
            issued_at=now,
        )
    )
    submission.last_event_at = now


async def record(
    session: AsyncSession,
    signer: EventSigner,
    submission: Submission,
    event: str,
    details: dict[str, Any] | None = None,
    signed: Mapping[str, str] | None = None,
) -> None:
    """Sign an event about `submission` (off the event loop: RSA) and append it to its case's log.

    `signed`: SETs signed ahead (`EventSigner.sign_all`) for events without details; one of them
    is used instead of a signature of its own.
    """
    token = signed.get(event) if signed and details is None else None
    if token is None:
        token = await asyncio.to_thread(
            signer.sign,
            event=event,
            submission_id=str(submission.id),
            case_id=str(submission.case_id),
            details=details,
        )
    append(session, submission, event, token)
