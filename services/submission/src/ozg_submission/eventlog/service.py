"""A case's event log: appended to as things happen, our own SETs signed when it is first read.

Most logs are never read (destinations on the KOP channel never ask), so an event submission
vouches for is stored as its claims and signed on first read; the token stored then is the one
every later read returns.
"""

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.security_events import EventSigner, OwnEvent, event_name, event_uri
from ozg_submission.eventlog import repository
from ozg_submission.models import EventLogEntry, Submission


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One entry of a case's log as readers get it: what happened, to which submission, its SET."""

    event: str
    """The FIT-Connect event name, e.g. `submit-submission`."""
    submission_id: uuid.UUID
    recorded_at: datetime
    token: str


class _OfCase(Protocol):
    """A submission, as an ORM object or only the columns an entry names."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def case_id(self) -> uuid.UUID: ...


def entry(
    submission: _OfCase, event: str, at: datetime, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The columns of an entry for an event we vouch for, to be signed when first read (for writers
    that insert entries themselves)."""
    return {
        "case_id": submission.case_id,
        "submission_id": submission.id,
        "event_type": event_uri(event),
        "token": None,
        "jti": uuid.uuid4(),
        "details": details or {},
        "issued_at": at,
    }


def record(
    session: AsyncSession, submission: Submission, event: str, details: dict[str, Any] | None = None
) -> None:
    """Append an event we vouch for to `submission`'s case log; its SET is signed when first read."""
    now = datetime.now(UTC)
    session.add(EventLogEntry(**entry(submission, event, now, details)))
    submission.last_event_at = now


def append(
    session: AsyncSession, submission: Submission, event: str, token: str, jti: uuid.UUID | None = None
) -> None:
    """Record a destination's SET in the case's log, as it was posted (with its `jti`, so that it is
    never taken twice); entries are never changed."""
    now = datetime.now(UTC)
    session.add(
        EventLogEntry(
            case_id=submission.case_id,
            submission_id=submission.id,
            event_type=event_uri(event),
            token=token,
            jti=jti,
            issued_at=now,
        )
    )
    submission.last_event_at = now


async def of_submission(
    session: AsyncSession, signer: EventSigner, submission_id: uuid.UUID
) -> list[LoggedEvent]:
    """A submission's log in order, every entry signed."""
    return await _signed(session, signer, await repository.of_submission(session, submission_id))


async def of_case(
    session: AsyncSession,
    signer: EventSigner,
    case_id: uuid.UUID,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> list[LoggedEvent]:
    """A case's log in order (from `offset`, at most `limit` entries), every entry signed."""
    return await _signed(
        session, signer, await repository.of_case(session, case_id, offset=offset, limit=limit)
    )


async def length_of_case(session: AsyncSession, case_id: uuid.UUID) -> int:
    """How many entries a case's log has."""
    return await repository.count_of_case(session, case_id)


async def jti_seen(session: AsyncSession, jti: uuid.UUID) -> bool:
    """Has a SET with this `jti` been recorded in any log?"""
    return await repository.jti_seen(session, jti)


def _own_event(entry: EventLogEntry) -> OwnEvent:
    assert entry.jti is not None, "an unsigned entry is one of ours, recorded with its jti"
    return OwnEvent(
        event=event_name(entry.event_type),
        submission_id=entry.submission_id,
        case_id=entry.case_id,
        jti=entry.jti,
        issued_at=entry.issued_at,
        details=entry.details or {},
    )


async def _signed(
    session: AsyncSession, signer: EventSigner, entries: Sequence[EventLogEntry]
) -> list[LoggedEvent]:
    """Sign the entries still unsigned (off the event loop, one hop for all) and store their tokens
    in log order; where a concurrent reader stored its own first, answer that one."""
    tokens = {e.id: e.token for e in entries if e.token is not None}
    unsigned = [e for e in entries if e.token is None]
    if unsigned:
        signed = await asyncio.to_thread(signer.sign_all, [_own_event(e) for e in unsigned])
        lost = []
        for e, token in zip(unsigned, signed, strict=True):
            if await repository.store_token(session, e.id, token):
                tokens[e.id] = token
            else:
                lost.append(e.id)
        if lost:
            tokens |= await repository.tokens_of(session, lost)
    return [
        LoggedEvent(
            event=event_name(e.event_type),
            submission_id=e.submission_id,
            recorded_at=e.issued_at,
            token=tokens[e.id],
        )
        for e in entries
        if e.id in tokens  # an entry deleted meanwhile (retention) is gone from the log
    ]
