"""FIT-Connect Submission API v1, subscriber side: list, fetch (picks up), fetch attachments."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from ozg_common.auth import PrincipalDep
from ozg_common.db import SessionDep
from ozg_common.pagination import LIMIT_DEFAULT, Limit, Offset
from ozg_common.problems import problem_responses
from ozg_submission.directory.service import leika_identifier
from ozg_submission.errors import AttachmentNotFound, NotPermitted, SubmissionNotFound
from ozg_submission.fitconnect.schemas import JOSE, ServiceType, SubmissionList, SubmissionRef, SubmissionView
from ozg_submission.fitconnect.subscriber import service
from ozg_submission.state import StateDep

router = APIRouter(prefix="/v1/submissions", tags=["FIT-Connect"])


@router.get(
    "",
    summary="Submissions waiting for the subscriber's destinations",
    responses=problem_responses(NotPermitted),
)
async def list_submissions(
    session: SessionDep,
    principal: PrincipalDep,
    destination_id: Annotated[str | None, Query(alias="destinationId", max_length=200)] = None,
    offset: Offset = 0,
    limit: Limit = LIMIT_DEFAULT,
) -> SubmissionList:
    total, page = await service.waiting(session, principal, destination_id, offset=offset, limit=limit)
    return SubmissionList(
        count=len(page),
        offset=offset,
        total_count=total,
        submissions=[
            SubmissionRef(destination_id=s.destination_id, submission_id=s.id, case_id=s.case_id)
            for s in page
        ],
    )


@router.get(
    "/{submission_id}",
    summary="A submission with its encrypted content (subscriber)",
    responses=problem_responses(SubmissionNotFound, NotPermitted),
)
async def get_submission(
    submission_id: uuid.UUID, session: SessionDep, state: StateDep, principal: PrincipalDep
) -> SubmissionView:
    fetched = await service.fetch(session, state, principal, submission_id)
    submission = fetched.submission
    return SubmissionView(
        destination_id=submission.destination_id,
        submission_id=submission.id,
        case_id=submission.case_id,
        service_type=ServiceType(
            name=submission.service_name, identifier=leika_identifier(submission.leika_key)
        ),
        attachments=fetched.attachments,
        encrypted_metadata=fetched.encrypted_metadata,
        encrypted_data=fetched.encrypted_data,
    )


@router.get(
    "/{submission_id}/attachments/{attachment_id}",
    summary="An attachment as JWE (subscriber)",
    response_class=StreamingResponse,
    responses={
        **problem_responses(SubmissionNotFound, AttachmentNotFound, NotPermitted),
        200: {"content": {JOSE: {"schema": {"type": "string"}}}},
    },
)
async def get_attachment(
    submission_id: uuid.UUID,
    attachment_id: uuid.UUID,
    session: SessionDep,
    state: StateDep,
    principal: PrincipalDep,
) -> StreamingResponse:
    attachment = await service.attachment_for_subscriber(session, principal, submission_id, attachment_id)
    return StreamingResponse(
        state.blobs.stream(attachment.blob_key),
        media_type=JOSE,
        headers={"Content-Length": str(attachment.size)},
    )
