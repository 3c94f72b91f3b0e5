"""`/v1/mailbox/applications`: the citizen's applications and their status monitor;
`/v1/admin/applications`: the same monitor for operators, without personal data."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from ozg_common.auth import AdminDep
from ozg_common.db import SessionDep
from ozg_common.problems import Forbidden, Unauthorized, problem_responses
from ozg_mailbox.applications import repository
from ozg_mailbox.applications.schemas import ApplicationPage, ApplicationRead, ApplicationTrail
from ozg_mailbox.errors import ApplicationNotFound, NotACitizen
from ozg_mailbox.messages import repository as messages
from ozg_mailbox.profile.service import MailboxDep

router = APIRouter(prefix="/v1/mailbox/applications", tags=["applications"])
admin_router = APIRouter(prefix="/v1/admin/applications", tags=["admin"])


@router.get("", response_model=ApplicationPage, responses=problem_responses(Unauthorized, NotACitizen))
async def list_applications(
    session: SessionDep,
    mailbox: MailboxDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ApplicationPage:
    """The citizen's applications, newest first, each with its status timeline."""
    rows, total = await repository.list_for_mailbox(session, mailbox.id, offset=offset, limit=limit)
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
    application = await repository.get_for_mailbox(session, mailbox.id, application_id)
    if application is None:
        raise ApplicationNotFound()
    return ApplicationRead.of(application)


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
    application = await repository.by_case(session, case_id)
    if application is None:
        raise ApplicationNotFound(f"The mailbox knows no application of case {case_id}.")
    return ApplicationTrail.of(application, await messages.headers_of_application(session, application.id))
