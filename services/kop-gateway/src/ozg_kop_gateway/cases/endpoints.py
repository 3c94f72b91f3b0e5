"""Return channel (Rückkanal): a destination answers its own cases."""

import uuid

from fastapi import APIRouter, status

from ozg_common.db import SessionDep
from ozg_common.problems import Unauthorized, problem_responses
from ozg_kop_gateway.cases import service
from ozg_kop_gateway.cases.schemas import (
    Acknowledgement,
    AcknowledgementResult,
    Reply,
    ReplyResult,
    StatusResult,
    StatusUpdate,
    StoredAttachment,
)
from ozg_kop_gateway.dependencies import DestinationPrincipalDep
from ozg_kop_gateway.errors import (
    CaseAlreadyDecided,
    CaseNotFound,
    InvalidAttachment,
    NotADestination,
    PayloadTooLarge,
)
from ozg_kop_gateway.state import StateDep

router = APIRouter(prefix="/v1/cases", tags=["return channel"])

AUTH_ERRORS = (Unauthorized, NotADestination, CaseNotFound)


@router.post(
    "/{case_id}/acknowledgement",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AcknowledgementResult,
    response_model_by_alias=True,
    responses=problem_responses(*AUTH_ERRORS, CaseAlreadyDecided),
)
async def acknowledge(
    case_id: str,
    body: Acknowledgement,
    session: SessionDep,
    principal: DestinationPrincipalDep,
    state: StateDep,
) -> AcknowledgementResult:
    """Accept the case, or reject it with problem details (submission records it in the event log)."""
    case = await service.own_case(session, principal, case_id, lock=True)
    await service.acknowledge(session, state.outbox, state.decisions, case, body)
    return AcknowledgementResult(case_id=case.id, decision=body.decision)


@router.post(
    "/{case_id}/status",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=StatusResult,
    response_model_by_alias=True,
    responses=problem_responses(*AUTH_ERRORS),
)
async def change_status(
    case_id: str,
    body: StatusUpdate,
    session: SessionDep,
    principal: DestinationPrincipalDep,
    state: StateDep,
) -> StatusResult:
    """Progress for the citizen's status monitor."""
    case = await service.own_case(session, principal, case_id)
    await service.change_status(session, state.outbox, case, body)
    return StatusResult(case_id=case.id, status=body.status)


@router.post(
    "/{case_id}/replies",
    status_code=status.HTTP_201_CREATED,
    response_model=ReplyResult,
    response_model_by_alias=True,
    responses=problem_responses(*AUTH_ERRORS, InvalidAttachment, PayloadTooLarge),
)
async def reply(
    case_id: str, body: Reply, session: SessionDep, principal: DestinationPrincipalDep, state: StateDep
) -> ReplyResult:
    """A message to the citizen's Postfach, with attachments (hashed with sha512)."""
    case = await service.own_case(session, principal, case_id)
    event = await service.send_reply(
        session, state.outbox, case, body, max_attachment_bytes=state.settings.reply_attachment_max_bytes
    )
    return ReplyResult(
        message_id=uuid.UUID(event.message_id),
        case_id=case.id,
        attachments=[
            StoredAttachment(
                attachment_id=uuid.UUID(a.attachment_id),
                filename=a.filename,
                mime_type=a.mime_type,
                size=a.size,
                sha512=a.sha512,
            )
            for a in event.attachments
        ],
    )
