"""FIT-Connect Submission API v1, sender side: announce, upload attachments, submit."""

import uuid

from fastapi import APIRouter, Request, Response

from ozg_common.auth import SenderDep
from ozg_common.db import SessionDep
from ozg_common.problems import problem_responses
from ozg_common.service import EventsUnavailable, KafkaWritable
from ozg_submission.directory.service import leika_key_of
from ozg_submission.errors import (
    AttachmentNotAnnounced,
    CallbackInvalid,
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
from ozg_submission.fitconnect.schemas import JOSE, SubmissionCreate, SubmissionPayload, SubmissionRef
from ozg_submission.fitconnect.sender import service
from ozg_submission.state import StateDep

router = APIRouter(prefix="/v1/submissions", tags=["FIT-Connect"])


def _content_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    return int(value) if value and value.isdigit() else None


@router.post(
    "",
    status_code=201,
    summary="Announce a submission (sender)",
    dependencies=[KafkaWritable],
    responses=problem_responses(
        EventsUnavailable,
        DestinationNotFound,
        DestinationStateInvalid,
        ServiceNotOffered,
        TooLarge,
        InvalidApplication,
        NotPermitted,
        CallbackInvalid,
    ),
)
async def create_submission(
    body: SubmissionCreate, session: SessionDep, state: StateDep, principal: SenderDep
) -> SubmissionRef:
    submission = await service.create(
        session,
        state,
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
            callback=body.callback,
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
    state: StateDep,
    principal: SenderDep,
) -> Response:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != JOSE:
        raise WrongMediaType(f"Attachments are uploaded as {JOSE}, not {media_type or 'nothing'}.")
    await service.upload_attachment(
        session, state, principal, submission_id, attachment_id, request.stream(), _content_length(request)
    )
    return Response(status_code=204)


@router.put(
    "/{submission_id}",
    summary="Submit: encrypted metadata and data (sender)",
    dependencies=[KafkaWritable],
    responses=problem_responses(
        EventsUnavailable,
        SubmissionNotFound,
        SubmissionStateInvalid,
        MissingAttachments,
        InvalidJwe,
        JweHeaderInvalid,
        TooLarge,
    ),
)
async def submit_submission(
    submission_id: uuid.UUID,
    body: SubmissionPayload,
    session: SessionDep,
    state: StateDep,
    principal: SenderDep,
) -> SubmissionRef:
    submission = await service.submit(
        session,
        state,
        principal,
        submission_id,
        encrypted_metadata=body.encrypted_metadata,
        encrypted_data=body.encrypted_data,
    )
    return SubmissionRef(
        destination_id=submission.destination_id, submission_id=submission.id, case_id=submission.case_id
    )
