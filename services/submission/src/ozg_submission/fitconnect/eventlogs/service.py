"""FIT-Connect event logs: who may read a submission's or a case's log, and what a destination
posts about a submission it received (accept, reject or forward) as its own signed SET.

A decision relayed by kop-gateway instead reaches the core through its consumer; either path
decides once (`lifecycle.machine.decided_by_destination` announces this one as `case.accepted`/
`case.rejected`, and the consumer recognises submission's own announcement and skips it).
"""

import asyncio
import time
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common import security_events
from ozg_common.auth import Principal
from ozg_common.security_events import ACCEPT, FORWARD, InvalidSecurityEvent, SecurityEvent, SignatureInvalid
from ozg_submission.directory.repository import get_destination
from ozg_submission.errors import (
    AuthenticationTagsMismatch,
    CaseNotFound,
    InvalidSecurityEventToken,
    NotPermitted,
    SecurityEventTokenExpired,
    SecurityEventTokenReplayed,
    SecurityEventTokenSignatureInvalid,
    SubmissionNotFound,
    SubmissionStateInvalid,
)
from ozg_submission.eventlog import service as eventlog
from ozg_submission.eventlog.service import LoggedEvent
from ozg_submission.eventlog.tokens import DECISIONS, NotFresh, check_freshness, same_tags
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
    session: AsyncSession,
    state: SubmissionState,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    offset: int,
    limit: int,
) -> tuple[int, list[LoggedEvent]]:
    """One page of a case's log and its length, for a sender or the destination of one of its
    submissions, or an operator."""
    members = await repository.of_case(session, case_id)
    if not members:
        raise CaseNotFound(f"No case {case_id}.")
    if not any(
        is_party_of(principal, sender_client_id=s.sender_client_id, destination_id=s.destination_id)
        for s in members
    ):
        raise NotPermitted("Only the sender, the destination or an operator may read this.")
    total = await eventlog.length_of_case(session, case_id)
    return total, await eventlog.of_case(session, state.events, case_id, offset=offset, limit=limit)


def _problems(received: SecurityEvent) -> list[dict[str, Any]]:
    """A reject's `problems` (problem-detail objects), if it names any."""
    problems = received.details.get("problems", [])
    if not isinstance(problems, list) or not all(isinstance(p, dict) for p in problems):
        raise InvalidSecurityEventToken("problems must be a list of problem-detail objects.")
    return problems


async def post_case_event(
    session: AsyncSession, state: SubmissionState, principal: Principal, case_id: uuid.UUID, token: str
) -> Submission:
    """FIT-Connect `POST /v1/cases/{caseId}/events`: the subscriber accepts, rejects or forwards a
    submission.

    The SET must follow FIT-Connect's SET rules, be signed (PS512) with the destination's own
    signing key, issued by the destination, recently, with a `jti` never seen before, about a
    submission of this case; an accept must repeat the submission's authentication tags. Only
    then is anything recorded.
    """
    try:
        received = security_events.read(token)
    except InvalidSecurityEvent as exc:
        raise InvalidSecurityEventToken(f"{exc}.") from exc
    if received.event not in DECISIONS:
        raise InvalidSecurityEventToken(f"Subscribers post {', '.join(DECISIONS)}, not {received.event}.")
    if received.subject_kind != "submission":
        raise InvalidSecurityEventToken("sub must be submission:<submissionId>.")
    if received.case_id != case_id:
        raise InvalidSecurityEventToken("txn names another case than the path.")
    problems = _problems(received)
    submission = await repository.get_submission(session, received.subject_id, for_update=True)
    if submission is None or submission.case_id != case_id or submission.status == SubmissionStatus.DELETED:
        raise CaseNotFound(f"Case {case_id} has no submission {received.subject_id}.")
    require_subscriber(principal, submission.destination_id)
    await _verify(state, session, submission, received, token)
    if await eventlog.jti_seen(session, received.jti):
        raise SecurityEventTokenReplayed(f"A SET with jti {received.jti} was recorded before.")
    if submission.status not in READY_FOR_PICKUP:
        raise SubmissionStateInvalid(
            f"Submission {submission.id} is {submission.status}; it takes no {received.event} now."
        )
    if received.event == ACCEPT and not same_tags(
        submission.authentication_tags, received.details["authenticationTags"]
    ):
        raise AuthenticationTagsMismatch(
            "authenticationTags must name the tags of the metadata, data and attachments as submitted."
        )
    if received.event == FORWARD:
        machine.forwarded_by_destination(session, submission, token.strip(), received.jti)
    else:
        await machine.decided_by_destination(
            session, state, submission, received.event, token.strip(), received.jti, problems
        )
    return submission


async def _verify(
    state: SubmissionState,
    session: AsyncSession,
    submission: Submission,
    received: SecurityEvent,
    token: str,
) -> None:
    """Issuer, signature (with the destination's published key) and age of the SET."""
    if received.issuer != submission.destination_id:
        raise InvalidSecurityEventToken(
            f"iss must be the destination id {submission.destination_id}, not {received.issuer!r}."
        )
    destination = await get_destination(session, submission.destination_id)
    signing_key = destination.signing_key if destination is not None else None
    if signing_key is None:
        raise SecurityEventTokenSignatureInvalid(
            "The destination has no signature verification key registered."
        )
    if received.header["kid"] != signing_key.get("kid"):
        raise SecurityEventTokenSignatureInvalid(
            f"The SET names key {received.header['kid']!r}, not the destination's signing key."
        )
    try:
        await asyncio.to_thread(security_events.verify_signature, token, signing_key)
    except SignatureInvalid as exc:
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
