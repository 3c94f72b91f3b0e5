"""Who may call what: a citizen (their token, their mailbox), or an operator."""

from typing import Annotated

from fastapi import Depends, Request

from ozg_common.auth import bearer_token
from ozg_common.db import SessionDep
from ozg_mailbox.identity import CITIZEN_SCOPE, Citizen, citizen_of
from ozg_mailbox.models import Mailbox
from ozg_mailbox.profile import service as profile
from ozg_mailbox.state import MailboxState, StateDep


async def verify_citizen_token(request: Request, state: MailboxState, token: str) -> Citizen:
    """The one token check of the API and the web page."""
    return citizen_of(await state.citizen_login.verify(request, token))


class CitizenRequirement:
    """The API's citizens: a bearer token with scope `citizen` (a ScopedDependency, so the API
    document names the scope)."""

    any_of: tuple[str, ...] = (CITIZEN_SCOPE,)

    async def __call__(self, request: Request, state: StateDep) -> Citizen:
        return await verify_citizen_token(request, state, bearer_token(request))


CitizenDep = Annotated[Citizen, Depends(CitizenRequirement())]


async def current_mailbox(session: SessionDep, citizen: CitizenDep) -> Mailbox:
    return await profile.open_mailbox(session, citizen)


MailboxDep = Annotated[Mailbox, Depends(current_mailbox)]
"""The calling citizen's mailbox, created at first sight."""
