"""Appending to a case's event log."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_submission.eventlog.tokens import EventSigner, event_uri
from ozg_submission.models import EventLogEntry, Submission


def entry(submission: Submission, event: str, token: str, issued_at: datetime) -> dict[str, Any]:
    """The columns of a log entry (for writers that insert entries themselves)."""
    return {
        "case_id": submission.case_id,
        "submission_id": submission.id,
        "event_type": event_uri(event),
        "token": token,
        "issued_at": issued_at,
    }


def append(session: AsyncSession, submission: Submission, event: str, token: str) -> None:
    """Record a SET (ours or the destination's) in the case's log; entries are never changed."""
    now = datetime.now(UTC)
    session.add(EventLogEntry(**entry(submission, event, token, now)))
    submission.last_event_at = now


async def record(
    session: AsyncSession,
    signer: EventSigner,
    submission: Submission,
    event: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Sign an event about `submission` (off the event loop: RSA) and append it to its case's log."""
    token = await asyncio.to_thread(
        signer.sign,
        event=event,
        submission_id=str(submission.id),
        case_id=str(submission.case_id),
        details=details,
    )
    append(session, submission, event, token)
