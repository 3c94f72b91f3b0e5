"""FIT-Connect event logs: read by sender and subscriber, written by the subscriber's decision."""

import uuid

from fastapi import APIRouter, Request, Response

from ozg_common.auth import PrincipalDep
from ozg_common.db import SessionDep
from ozg_common.pagination import LIMIT_DEFAULT, Limit, Offset
from ozg_common.problems import problem_responses
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
    TooLarge,
    WrongMediaType,
)
from ozg_submission.fitconnect.eventlogs import service
from ozg_submission.fitconnect.schemas import JOSE, CaseEventLog, EventLog
from ozg_submission.state import StateDep

router = APIRouter(tags=["FIT-Connect"])

MAX_SET_BYTES = 64 * 1024


@router.get(
    "/v1/submissions/{submission_id}/events",
    summary="The submission's event log (signed SETs)",
    responses=problem_responses(SubmissionNotFound, NotPermitted),
)
async def submission_events(
    submission_id: uuid.UUID, session: SessionDep, state: StateDep, principal: PrincipalDep
) -> EventLog:
    logged = await service.submission_log(session, state, principal, submission_id)
    return EventLog(event_log=[event.token for event in logged])


@router.get(
    "/v1/cases/{case_id}/events",
    summary="The case's event log (signed SETs), one page",
    responses=problem_responses(CaseNotFound, NotPermitted),
)
async def case_events(
    case_id: uuid.UUID,
    session: SessionDep,
    state: StateDep,
    principal: PrincipalDep,
    offset: Offset = 0,
    limit: Limit = LIMIT_DEFAULT,
) -> CaseEventLog:
    total, logged = await service.case_log(session, state, principal, case_id, offset=offset, limit=limit)
    return CaseEventLog(
        count=len(logged), offset=offset, total_count=total, event_log=[event.token for event in logged]
    )


@router.post(
    "/v1/cases/{case_id}/events",
    status_code=204,
    summary="Accept, reject or forward a submission with a signed SET (subscriber)",
    openapi_extra={"requestBody": {"content": {JOSE: {"schema": {"type": "string"}}}}},
    responses=problem_responses(
        CaseNotFound,
        InvalidSecurityEventToken,
        SecurityEventTokenSignatureInvalid,
        SecurityEventTokenExpired,
        SecurityEventTokenReplayed,
        AuthenticationTagsMismatch,
        SubmissionStateInvalid,
        NotPermitted,
        WrongMediaType,
        TooLarge,
    ),
)
async def post_case_event(
    case_id: uuid.UUID, request: Request, session: SessionDep, state: StateDep, principal: PrincipalDep
) -> Response:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != JOSE:
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
    await service.post_case_event(session, state, principal, case_id, token)
    return Response(status_code=204)
