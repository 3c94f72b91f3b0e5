"""FIT-Connect event logs: read by sender and subscriber, written by the subscriber's decision."""

import uuid

from fastapi import APIRouter, Request, Response

from ozg_common.auth import PrincipalDep
from ozg_common.db import SessionDep
from ozg_common.problems import problem_responses
from ozg_submission.context import ContextDep
from ozg_submission.errors import (
    CaseNotFound,
    InvalidSecurityEventToken,
    NotPermitted,
    SecurityEventTokenExpired,
    SecurityEventTokenSignatureInvalid,
    SubmissionNotFound,
    SubmissionStateInvalid,
    TooLarge,
    WrongMediaType,
)
from ozg_submission.eventlog import decisions
from ozg_submission.eventlog import service as eventlog
from ozg_submission.identity.scopes import is_party_of
from ozg_submission.submissions import repository as submissions
from ozg_submission.submissions.schemas import EventLog
from ozg_submission.submissions.service import visible_submission

router = APIRouter(tags=["FIT-Connect"])

MAX_SET_BYTES = 64 * 1024


@router.get(
    "/v1/submissions/{submission_id}/events",
    summary="The submission's event log (signed SETs)",
    responses=problem_responses(SubmissionNotFound, NotPermitted),
)
async def submission_events(
    submission_id: uuid.UUID, session: SessionDep, context: ContextDep, principal: PrincipalDep
) -> EventLog:
    submission = await visible_submission(session, principal, submission_id)
    logged = await eventlog.of_submission(session, context.events, submission.id)
    return EventLog(event_log=[event.token for event in logged])


@router.get(
    "/v1/cases/{case_id}/events",
    summary="The case's event log (signed SETs)",
    responses=problem_responses(CaseNotFound, NotPermitted),
)
async def case_events(
    case_id: uuid.UUID, session: SessionDep, context: ContextDep, principal: PrincipalDep
) -> EventLog:
    members = await submissions.of_case(session, case_id)
    if not members:
        raise CaseNotFound(f"No case {case_id}.")
    if not any(
        is_party_of(principal, sender_client_id=s.sender_client_id, destination_id=s.destination_id)
        for s in members
    ):
        raise NotPermitted("Only the sender, the destination or an operator may read this.")
    logged = await eventlog.of_case(session, context.events, case_id)
    return EventLog(event_log=[event.token for event in logged])


@router.post(
    "/v1/cases/{case_id}/events",
    status_code=204,
    summary="Accept or reject a submission with a signed SET (subscriber)",
    openapi_extra={"requestBody": {"content": {"application/jose": {"schema": {"type": "string"}}}}},
    responses=problem_responses(
        CaseNotFound,
        InvalidSecurityEventToken,
        SecurityEventTokenSignatureInvalid,
        SecurityEventTokenExpired,
        SubmissionStateInvalid,
        NotPermitted,
        WrongMediaType,
        TooLarge,
    ),
)
async def post_case_event(
    case_id: uuid.UUID, request: Request, session: SessionDep, context: ContextDep, principal: PrincipalDep
) -> Response:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/jose":
        raise WrongMediaType("A Security Event Token is posted as application/jose.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SET_BYTES:
            raise TooLarge(f"A Security Event Token may have at most {MAX_SET_BYTES} bytes.")
    try:
        token = body.decode("ascii")
    except UnicodeDecodeError as exc:
        raise InvalidSecurityEventToken("A SET is ASCII (base64url parts).") from exc
    await decisions.post_case_event(session, context, principal, case_id, token)
    return Response(status_code=204)
