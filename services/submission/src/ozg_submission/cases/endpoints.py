"""The event log of a case for operators: each SET decoded next to its signed token."""

import uuid

from fastapi import APIRouter

from ozg_common.auth import AdminDep
from ozg_common.db import SessionDep
from ozg_common.problems import Forbidden, Unauthorized, problem_responses
from ozg_submission.cases import service
from ozg_submission.cases.schemas import CaseEvents
from ozg_submission.errors import CaseNotFound
from ozg_submission.state import StateDep

router = APIRouter(prefix="/v1/admin/cases", tags=["administration"])


@router.get(
    "/{case_id}/events",
    summary="A case's submissions and event log, each SET decoded (operators)",
    operation_id="adminCaseEvents",
    responses=problem_responses(Unauthorized, Forbidden, CaseNotFound),
)
async def case_events(case_id: uuid.UUID, session: SessionDep, state: StateDep, _: AdminDep) -> CaseEvents:
    return await service.case_events(session, state, case_id)
