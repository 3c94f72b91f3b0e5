"""`/v1/mailbox`: the citizen's mailbox identity and profile."""

from fastapi import APIRouter

from ozg_common.db import SessionDep
from ozg_common.problems import Unauthorized, problem_responses
from ozg_mailbox.dependencies import CitizenDep
from ozg_mailbox.errors import NotACitizen
from ozg_mailbox.profile import service
from ozg_mailbox.profile.schemas import MailboxRead, ProfileUpdate

router = APIRouter(prefix="/v1/mailbox", tags=["mailbox"])


@router.get("", response_model=MailboxRead, responses=problem_responses(Unauthorized, NotACitizen))
async def get_mailbox(session: SessionDep, citizen: CitizenDep) -> MailboxRead:
    """The mailbox of this login (created on the first call)."""
    mailbox = await service.record_login(session, citizen)
    return MailboxRead.of(mailbox)


@router.put("/profile", response_model=MailboxRead, responses=problem_responses(Unauthorized, NotACitizen))
async def update_profile(body: ProfileUpdate, session: SessionDep, citizen: CitizenDep) -> MailboxRead:
    """Set the address email notices go to."""
    return MailboxRead.of(await service.change_email(session, citizen, body.email))
