"""FIT-Connect Submission API v1: what senders and subscribers call."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from ozg_common.auth import PrincipalDep, SenderDep
from ozg_common.db import SessionDep
from ozg_common.problems import problem_responses
from ozg_submission.context import ContextDep
from ozg_submission.directory.service import leika_identifier, leika_key_of
from ozg_submission.errors import (
    AttachmentNotAnnounced,
    AttachmentNotFound,
    DestinationNotFound,
    DestinationStateInvalid,
    InvalidApplication,
    InvalidJwe,
    JweHeaderInvalid,
    MissingAttachments,
    NotPermitted,
    ServiceNotOffered,
    SubmissionNotFound,
    SubmissionStateInvalid,
    TooLarge,
    WrongMediaType,
)
from ozg_submission.identity.scopes import destinations_of, sees_all_destinations
from ozg_submission.submissions import repository, service
from ozg_submission.submissions.schemas import (
    ServiceType,
    SubmissionCreate,
    SubmissionList,
    SubmissionPayload,
    SubmissionRef,
    SubmissionView,
)

router = APIRouter(prefix="/v1/submissions", tags=["FIT-Connect"])

JOSE = "application/jose"


def _content_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    return int(value) if value and value.isdigit() else None


@router.post(
    "",
    status_code=201,
    summary="Announce a submission (sender)",
    responses=problem_responses(
        DestinationNotFound,
        DestinationStateInvalid,
        ServiceNotOffered,
        TooLarge,
        InvalidApplication,
        NotPermitted,
    ),
)
async def create_submission(
    body: SubmissionCreate, session: SessionDep, context: ContextDep, principal: SenderDep
) -> SubmissionRef:
    submission = await service.create(
        session,
        context,
        principal,
        service.NewSubmission(
            destination_id=body.destination_id,
            leika_key=leika_key_of(body.service_type.identifier),
            service_name=body.service_type.name,
            announced_attachments=body.announced_attachments,
            origin="fit-connect",
            case_id=body.case_id,
            joins_case=body.case_id is not None,
            mailbox_uuid=body.mailbox_uuid,
            payment_transaction_id=body.payment_transaction_id,
        ),
    )
    return SubmissionRef(
        destination_id=submission.destination_id, submission_id=submission.id, case_id=submission.case_id
    )


@router.put(
    "/{submission_id}/attachments/{attachment_id}",
    status_code=204,
    summary="Upload an announced attachment as JWE (sender)",
    openapi_extra={"requestBody": {"content": {JOSE: {"schema": {"type": "string"}}}, "required": True}},
    responses=problem_responses(
        SubmissionNotFound,
        AttachmentNotAnnounced,
        SubmissionStateInvalid,
        InvalidJwe,
        JweHeaderInvalid,
        TooLarge,
        WrongMediaType,
    ),
)
async def upload_attachment(
    submission_id: uuid.UUID,
    attachment_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    context: ContextDep,
    principal: SenderDep,
) -> Response:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != JOSE:
        raise WrongMediaType(f"Attachments are uploaded as {JOSE}, not {media_type or 'nothing'}.")
    await service.upload_attachment(
        session, context, principal, submission_id, attachment_id, request.stream(), _content_length(request)
    )
    return Response(status_code=204)


@router.put(
    "/{submission_id}",
    summary="Submit: encrypted metadata and data (sender)",
    responses=problem_responses(
        SubmissionNotFound, SubmissionStateInvalid, MissingAttachments, InvalidJwe, JweHeaderInvalid, TooLarge
    ),
)
async def submit_submission(
    submission_id: uuid.UUID,
    body: SubmissionPayload,
    session: SessionDep,
    context: ContextDep,
    principal: SenderDep,
) -> SubmissionRef:
    submission = await service.submit(
        session,
        context,
        principal,
        submission_id,
        encrypted_metadata=body.encrypted_metadata,
        encrypted_data=body.encrypted_data,
    )
    return SubmissionRef(
        destination_id=submission.destination_id, submission_id=submission.id, case_id=submission.case_id
    )


@router.get(
    "",
    summary="Submissions waiting for the subscriber's destinations",
    responses=problem_responses(NotPermitted),
)
async def list_submissions(
    session: SessionDep,
    principal: PrincipalDep,
    destination_id: Annotated[str | None, Query(alias="destinationId", max_length=200)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> SubmissionList:
    own = destinations_of(principal)
    if not own and not sees_all_destinations(principal):
        raise NotPermitted("Only subscribers (destination:<id>) list submissions.")
    if destination_id is not None:
        if not sees_all_destinations(principal) and destination_id not in own:
            raise NotPermitted("This token speaks for another destination.")
        scope: set[str] | None = {destination_id}
    else:
        scope = None if sees_all_destinations(principal) else own
    total, page = await repository.ready_for_pickup(session, scope, offset=offset, limit=limit)
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
    submission_id: uuid.UUID, session: SessionDep, context: ContextDep, principal: PrincipalDep
) -> SubmissionView:
    submission = await service.for_subscriber(session, principal, submission_id, for_update=True)
    metadata, data = await service.payloads(context, submission)
    attachments = await repository.attachments_of(session, submission.id)
    service.mark_picked_up(principal, submission)
    return SubmissionView(
        destination_id=submission.destination_id,
        submission_id=submission.id,
        case_id=submission.case_id,
        service_type=ServiceType(
            name=submission.service_name, identifier=leika_identifier(submission.leika_key)
        ),
        attachments=[a.attachment_id for a in attachments],
        encrypted_metadata=metadata,
        encrypted_data=data,
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
    context: ContextDep,
    principal: PrincipalDep,
) -> StreamingResponse:
    attachment = await service.attachment_for_subscriber(session, principal, submission_id, attachment_id)
    return StreamingResponse(
        context.blobs.stream(attachment.blob_key),
        media_type=JOSE,
        headers={"Content-Length": str(attachment.size)},
    )
