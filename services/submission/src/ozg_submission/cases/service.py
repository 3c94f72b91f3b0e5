"""A case as operators see it: its submissions and its event log, each SET decoded."""

import json
import uuid
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_submission.cases.schemas import CaseEvent, CaseEvents, CaseSubmission
from ozg_submission.errors import CaseNotFound
from ozg_submission.eventlog import service as eventlog
from ozg_submission.eventlog.service import LoggedEvent
from ozg_submission.lifecycle import repository
from ozg_submission.state import SubmissionState


async def case_events(session: AsyncSession, state: SubmissionState, case_id: uuid.UUID) -> CaseEvents:
    """The case's submissions, oldest first, and its log in order."""
    members = await repository.of_case(session, case_id)
    if not members:
        raise CaseNotFound(f"No case {case_id}.")
    logged = await eventlog.of_case(session, state.events, case_id)
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
