"""FIT-Connect event logs: who may read a submission's or a case's log, and the destination's
decision (accept or reject) posted as its own signed SET.

A decision relayed by kop-gateway instead reaches the core through its consumer; either path
decides once (`lifecycle.machine.decided_by_destination` announces this one as `case.accepted`/
`case.rejected`, and the consumer recognises submission's own announcement and skips it).
"""

import asyncio
import time
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.auth import Principal
from ozg_submission.directory.repository import get_destination
from ozg_submission.errors import (
    CaseNotFound,
    InvalidSecurityEventToken,
    NotPermitted,
    SecurityEventTokenExpired,
    SecurityEventTokenSignatureInvalid,
    SubmissionNotFound,
    SubmissionStateInvalid,
)
from ozg_submission.eventlog import service as eventlog
from ozg_submission.eventlog.service import LoggedEvent
from ozg_submission.eventlog.tokens import (
    DECISIONS,
    NotFresh,
    ReceivedEvent,
    SignatureRejected,
    check_freshness,
    read_event,
    verify_signature,
)
from ozg_submission.identity.scopes import is_party_of, require_subscriber
from ozg_submission.lifecycle import machine, repository
from ozg_submission.lifecycle.repository import READY_FOR_PICKUP
from ozg_submission.models import Submission, SubmissionStatus
from ozg_submission.state import SubmissionState


async def submission_log(
    session: AsyncSession, state: SubmissionState, principal: Principal, submission_id: uuid.UUID
) -> list[LoggedEvent]:
    """A submission's log, for its sender, its destination or an operator."""
    submission = await repository.get_submission(session, submission_id)
    if submission is None:
        raise SubmissionNotFound(f"No submission {submission_id}.")
    if not is_party_of(
        principal, sender_client_id=submission.sender_client_id, destination_id=submission.destination_id
    ):
        raise NotPermitted("Only the sender, the destination or an operator may read this.")
    return await eventlog.of_submission(session, state.events, submission.id)


async def case_log(
    session: AsyncSession, state: SubmissionState, principal: Principal, case_id: uuid.UUID
) -> list[LoggedEvent]:
    """A case's log, for a sender or the destination of one of its submissions, or an operator."""
    members = await repository.of_case(session, case_id)
    if not members:
        raise CaseNotFound(f"No case {case_id}.")
    if not any(
        is_party_of(principal, sender_client_id=s.sender_client_id, destination_id=s.destination_id)
        for s in members
    ):
        raise NotPermitted("Only the sender, the destination or an operator may read this.")
    return await eventlog.of_case(session, state.events, case_id)


def _problems(received: ReceivedEvent) -> list[dict[str, Any]]:
    """A reject's `problems` (problem-detail objects), if it names any."""
    problems = received.details.get("problems", [])
    if not isinstance(problems, list) or not all(isinstance(p, dict) for p in problems):
        raise InvalidSecurityEventToken("problems must be a list of problem-detail objects.")
    return problems


async def post_case_event(
    session: AsyncSession, state: SubmissionState, principal: Principal, case_id: uuid.UUID, token: str
) -> Submission:
    """FIT-Connect `POST /v1/cases/{caseId}/events`: the subscriber accepts or rejects a submission.

    The SET must be signed (PS512) with the destination's own signing key, issued by the
    destination, recently, about a submission of this case; only then is anything recorded.
    """
    try:
        received = read_event(token)
    except ValueError as exc:
        raise InvalidSecurityEventToken(str(exc)) from exc
    if received.event not in DECISIONS:
        raise InvalidSecurityEventToken(f"Subscribers post {' or '.join(DECISIONS)}, not {received.event}.")
    if received.case_id != str(case_id):
        raise InvalidSecurityEventToken("txn names another case than the path.")
    try:
        submission_id = uuid.UUID(received.submission_id)
    except ValueError as exc:
        raise InvalidSecurityEventToken("sub names no submission id.") from exc
    problems = _problems(received)
    submission = await repository.get_submission(session, submission_id, for_update=True)
    if submission is None or submission.case_id != case_id or submission.status == SubmissionStatus.DELETED:
        raise CaseNotFound(f"Case {case_id} has no submission {submission_id}.")
    require_subscriber(principal, submission.destination_id)
    await _verify(state, session, submission, received, token)
    if submission.status not in READY_FOR_PICKUP:
        raise SubmissionStateInvalid(
            f"Submission {submission_id} is {submission.status}; it cannot be decided."
        )
    await machine.decided_by_destination(session, state, submission, received.event, token.strip(), problems)
    return submission


async def _verify(
    state: SubmissionState,
    session: AsyncSession,
    submission: Submission,
    received: ReceivedEvent,
    token: str,
) -> None:
    """Issuer, signature (with the destination's published key) and age of the SET."""
    if received.issuer != submission.destination_id:
        raise InvalidSecurityEventToken(
            f"iss must be the destination id {submission.destination_id}, not {received.issuer!r}."
        )
    destination = await get_destination(session, submission.destination_id)
    signing_key = destination.signing_key if destination is not None else None
    try:
        await asyncio.to_thread(verify_signature, token, received, signing_key)
    except SignatureRejected as exc:
        raise SecurityEventTokenSignatureInvalid(f"{exc}.") from exc
    settings = state.settings
    try:
        check_freshness(
            received,
            now=time.time(),
            max_age=settings.event_token_max_age.total_seconds(),
            skew=settings.event_token_clock_skew.total_seconds(),
        )
    except NotFresh as exc:
        raise SecurityEventTokenExpired(f"{exc}.") from exc
