"""`/v1/mailbox/applications`: the citizen's applications and their status monitor."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from ozg_common.db import SessionDep
from ozg_common.problems import Unauthorized, problem_responses
from ozg_mailbox.applications import repository
from ozg_mailbox.applications.schemas import ApplicationPage, ApplicationRead
from ozg_mailbox.errors import ApplicationNotFound, NotACitizen
from ozg_mailbox.profile.service import MailboxDep

router = APIRouter(prefix="/v1/mailbox/applications", tags=["applications"])


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
