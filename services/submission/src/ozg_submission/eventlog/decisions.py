"""The destination's answer: accept or reject, posted as its own signed SET or relayed by kop-gateway."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.auth import Principal
from ozg_submission.context import SubmissionContext
from ozg_submission.errors import CaseNotFound, InvalidSecurityEventToken, SubmissionStateInvalid
from ozg_submission.eventlog import service as eventlog
from ozg_submission.eventlog.tokens import ACCEPT, DECISIONS, read_event
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


async def post_case_event(
    session: AsyncSession, context: SubmissionContext, principal: Principal, case_id: uuid.UUID, token: str
) -> Submission:
    """FIT-Connect `POST /v1/cases/{caseId}/events`: the subscriber accepts or rejects a submission."""
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
    submission = await repository.get_submission(session, submission_id, for_update=True)
    if submission is None or submission.case_id != case_id or submission.status == SubmissionStatus.DELETED:
        raise CaseNotFound(f"Case {case_id} has no submission {submission_id}.")
    require_subscriber(principal, submission.destination_id)
    if submission.status not in READY_FOR_PICKUP:
        raise SubmissionStateInvalid(
            f"Submission {submission_id} is {submission.status}; it cannot be decided."
        )
    eventlog.append(session, submission, received.event, token.strip())
    decide(submission, received.event, datetime.now(UTC))
    context.metrics.submissions.labels(submission.origin, submission.status).inc()
    return submission
