"""`/v1/mailbox/applications`: the citizen's applications and their status monitor;
`/v1/admin/applications`: the same monitor for operators, without personal data."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from ozg_common.auth import AdminDep
from ozg_common.db import SessionDep
from ozg_common.pagination import LIMIT_DEFAULT, Limit, Offset
from ozg_common.problems import Forbidden, Unauthorized, problem_responses
from ozg_mailbox.applications import service
from ozg_mailbox.applications.schemas import ApplicationPage, ApplicationRead, ApplicationTrail
from ozg_mailbox.dependencies import MailboxDep
from ozg_mailbox.errors import ApplicationNotFound, NotACitizen

router = APIRouter(prefix="/v1/mailbox/applications", tags=["applications"])
admin_router = APIRouter(prefix="/v1/admin/applications", tags=["admin"])


@router.get("", response_model=ApplicationPage, responses=problem_responses(Unauthorized, NotACitizen))
async def list_applications(
    session: SessionDep,
    mailbox: MailboxDep,
    offset: Offset = 0,
    limit: Limit = LIMIT_DEFAULT,
) -> ApplicationPage:
    """The citizen's applications, newest first, each with its status timeline."""
    rows, total = await service.of_mailbox(session, mailbox.id, offset=offset, limit=limit)
    return ApplicationPage(
        count=len(rows), offset=offset, total_count=total, applications=[ApplicationRead.of(a) for a in rows]
    )


@router.get(
    "/{application_id}",
    response_model=ApplicationRead,
    responses=problem_responses(Unauthorized, NotACitizen, ApplicationNotFound),
)
async def get_application(
    application_id: uuid.UUID, session: SessionDep, mailbox: MailboxDep
) -> ApplicationRead:
    return ApplicationRead.of(await service.one_of_mailbox(session, mailbox.id, application_id))


@admin_router.get(
    "/{caseId}",
    response_model=ApplicationTrail,
    responses=problem_responses(Unauthorized, Forbidden, ApplicationNotFound),
)
async def application_of_case(
    case_id: Annotated[str, Path(alias="caseId", min_length=1, max_length=100)],
    admin: AdminDep,
    session: SessionDep,
) -> ApplicationTrail:
    """The status monitor of a case with its times, and its messages' headers (no content)."""
    application, headers = await service.trail_of_case(session, case_id)
    return ApplicationTrail.of(application, headers)
