"""`GET /` (HTML) and `GET /api/applications` (JSON): what arrived and how far it got."""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ozg_common.db import SessionDep
from ozg_common.pagination import LIMIT_MAX
from ozg_common.problems import problem_responses
from ozg_demo_receiver.errors import ApplicationNotFound
from ozg_demo_receiver.status import service
from ozg_demo_receiver.status.schemas import ApplicationList, ApplicationView, MessageView, Totals

router = APIRouter(tags=["status"])
templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "templates"), autoescape=select_autoescape()
)


async def _listing(
    session: SessionDep, submission_id: str | None, case_id: str | None, limit: int | None
) -> ApplicationList:
    received = await service.received(session, submission_id=submission_id, case_id=case_id, limit=limit)
    return ApplicationList(
        totals=Totals(
            applications=received.applications,
            duplicate_submissions=received.duplicate_submissions,
            repeated_deliveries=received.repeated_deliveries,
            by_stage=received.by_stage,
        ),
        applications=[ApplicationView.model_validate(row) for row in received.rows],
        messages=[MessageView.model_validate(row) for row in received.messages],
    )


@router.get("/api/applications", response_model_by_alias=True)
async def list_applications(
    session: SessionDep,
    submission_id: Annotated[str | None, Query(alias="submissionId")] = None,
    case_id: Annotated[str | None, Query(alias="caseId")] = None,
    limit: Annotated[int | None, Query(ge=1, le=LIMIT_MAX)] = None,
) -> ApplicationList:
    """Everything received (all of it unless `limit`): the e2e tests and benchmarks count from here."""
    return await _listing(session, submission_id, case_id, limit)


@router.get(
    "/api/applications/{submission_id}",
    response_model_by_alias=True,
    responses=problem_responses(ApplicationNotFound),
)
async def get_application(submission_id: str, session: SessionDep) -> ApplicationView:
    return ApplicationView.model_validate(await service.application(session, submission_id))


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def status_page(request: Request, session: SessionDep) -> HTMLResponse:
    listing = await _listing(session, None, None, 200)
    page = templates.get_template("index.html").render(listing=listing)
    return HTMLResponse(page)
