"""The destination's answer: accept or reject, posted as its own signed SET or relayed by kop-gateway.

Either path changes the lifecycle once. The FIT-Connect path also announces the decision as
`case.accepted`/`case.rejected` (the events kop-gateway publishes for its return channel), so the
mailbox tells the citizen; submission's own consumer recognises its announcement and skips it.
"""

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.auth import Principal
from ozg_common.contracts.delivery import CaseAccepted, CaseRejected
from ozg_submission.context import SubmissionContext
from ozg_submission.directory.repository import get_destination
from ozg_submission.errors import (
    CaseNotFound,
    InvalidSecurityEventToken,
    SecurityEventTokenExpired,
    SecurityEventTokenSignatureInvalid,
    SubmissionStateInvalid,
)
from ozg_submission.eventlog import service as eventlog
from ozg_submission.eventlog.tokens import (
    ACCEPT,
    DECISIONS,
    NotFresh,
    ReceivedEvent,
    SignatureRejected,
    check_freshness,
    read_event,
    verify_signature,
)
from ozg_submission.identity.scopes import require_subscriber
from ozg_submission.models import Submission, SubmissionStatus
from ozg_submission.submissions import repository
from ozg_submission.submissions.repository import READY_FOR_PICKUP


def decide(submission: Submission, event: str, at: datetime) -> None:
    """Record the decision's effect on the lifecycle."""
    submission.status = SubmissionStatus.ACCEPTED if event == ACCEPT else SubmissionStatus.REJECTED
    submission.decided_at = at
    if submission.picked_up_at is None:
        submission.picked_up_at = at


def _problems(received: ReceivedEvent) -> list[dict[str, Any]]:
    """A reject's `problems` (problem-detail objects), if it names any."""
    problems = received.details.get("problems", [])
    if not isinstance(problems, list) or not all(isinstance(p, dict) for p in problems):
        raise InvalidSecurityEventToken("problems must be a list of problem-detail objects.")
    return problems


async def post_case_event(
    session: AsyncSession, context: SubmissionContext, principal: Principal, case_id: uuid.UUID, token: str
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
    await _verify(context, session, submission, received, token)
    if submission.status not in READY_FOR_PICKUP:
        raise SubmissionStateInvalid(
            f"Submission {submission_id} is {submission.status}; it cannot be decided."
        )
    token = token.strip()
    now = datetime.now(UTC)
    eventlog.append(session, submission, received.event, token)
    decide(submission, received.event, now)
    await context.outbox.publish(session, _announcement(submission, received.event, now, token, problems))
    context.metrics.submissions.labels(submission.origin, submission.status).inc()
    return submission


async def _verify(
    context: SubmissionContext,
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
    settings = context.settings
    try:
        check_freshness(
            received,
            now=time.time(),
            max_age=settings.event_token_max_age.total_seconds(),
            skew=settings.event_token_clock_skew.total_seconds(),
        )
    except NotFresh as exc:
        raise SecurityEventTokenExpired(f"{exc}.") from exc


def _announcement(
    submission: Submission, event: str, at: datetime, token: str, problems: list[dict[str, Any]]
) -> CaseAccepted | CaseRejected:
    """The decision as kop-gateway's return channel announces it, carrying the destination's SET."""
    if event == ACCEPT:
        return CaseAccepted(
            case_id=str(submission.case_id),
            submission_id=str(submission.id),
            destination_id=submission.destination_id,
            accepted_at=at,
            security_event_token=token,
        )
    return CaseRejected(
        case_id=str(submission.case_id),
        submission_id=str(submission.id),
        destination_id=submission.destination_id,
        rejected_at=at,
        problems=problems,
        security_event_token=token,
    )
