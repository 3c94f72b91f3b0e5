"""The event log of a case for operators: each SET decoded next to its signed token."""

import json
import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from joserfc import jws
from joserfc.errors import JoseError

from ozg_common.auth import AdminDep
from ozg_common.db import SessionDep
from ozg_common.problems import Forbidden, Unauthorized, problem_responses
from ozg_common.schemas import Schema
from ozg_submission.context import ContextDep
from ozg_submission.errors import CaseNotFound
from ozg_submission.eventlog import service as eventlog
from ozg_submission.eventlog.service import LoggedEvent
from ozg_submission.submissions import repository as submissions

router = APIRouter(prefix="/v1/admin/cases", tags=["administration"])


class CaseSubmission(Schema):
    """A submission of the case as an operator sees it: where it goes and how far it got."""

    submission_id: uuid.UUID
    destination_id: str
    leika_key: str
    service_name: str
    origin: str
    sender_client_id: str
    status: str
    created_at: datetime
    last_event_at: datetime
    delivery_error: str | None


class CaseEvent(Schema):
    """One Security Event Token of the log: what happened, to which submission, who vouches for it."""

    event: str
    """The FIT-Connect event name, e.g. `submit-submission`."""
    submission_id: uuid.UUID
    recorded_at: datetime
    header: dict[str, Any] | None
    claims: dict[str, Any] | None
    """The SET's claims (`iss`, `iat`, `jti`, `sub`, `txn`, `events`), decoded, not re-verified."""
    token: str


class CaseEvents(Schema):
    case_id: uuid.UUID
    submissions: list[CaseSubmission]
    events: list[CaseEvent]


@router.get(
    "/{case_id}/events",
    summary="A case's submissions and event log, each SET decoded (operators)",
    responses=problem_responses(Unauthorized, Forbidden, CaseNotFound),
)
async def case_events(
    case_id: uuid.UUID, session: SessionDep, context: ContextDep, _: AdminDep
) -> CaseEvents:
    members = await submissions.of_case(session, case_id)
    if not members:
        raise CaseNotFound(f"No case {case_id}.")
    logged = await eventlog.of_case(session, context.events, case_id)
    return CaseEvents(
        case_id=case_id,
        submissions=[
            CaseSubmission(
                submission_id=s.id,
                destination_id=s.destination_id,
                leika_key=s.leika_key,
                service_name=s.service_name,
                origin=s.origin,
                sender_client_id=s.sender_client_id,
                status=s.status,
                created_at=s.created_at,
                last_event_at=s.last_event_at,
                delivery_error=s.delivery_error,
            )
            for s in sorted(members, key=lambda s: s.created_at)
        ],
        events=[_decoded(event) for event in logged],
    )


def _decoded(event: LoggedEvent) -> CaseEvent:
    header: dict[str, Any] | None = None
    claims: dict[str, Any] | None = None
    try:
        signed = jws.extract_compact(event.token.encode())
        header, claims = dict(signed.protected), json.loads(signed.payload)
    except (JoseError, ValueError):
        pass  # every stored SET was well-formed when recorded; show the token even if not
    return CaseEvent(
        event=event.event,
        submission_id=event.submission_id,
        recorded_at=event.recorded_at,
        header=header,
        claims=claims if isinstance(claims, dict) else None,
        token=event.token,
    )
