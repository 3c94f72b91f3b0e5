"""FIT-Connect sender side: a destination and its encryption key."""

from typing import Any

from fastapi import APIRouter, Response

from ozg_common.auth import PrincipalDep
from ozg_common.db import SessionDep
from ozg_common.problems import problem_responses
from ozg_submission.directory import service
from ozg_submission.directory.schemas import DestinationView
from ozg_submission.errors import DestinationNotFound, KeyNotFound

router = APIRouter(prefix="/v1/destinations", tags=["FIT-Connect sender"])


@router.get(
    "/{destination_id}",
    summary="A destination: status, services, encryption key id",
    responses=problem_responses(DestinationNotFound),
)
async def get_destination(destination_id: str, session: SessionDep, _: PrincipalDep) -> DestinationView:
    return await service.describe(session, destination_id)


@router.get(
    "/{destination_id}/keys/{kid}",
    summary="A public key of the destination (JWK): encryption or signature verification; needs no token",
    responses=problem_responses(DestinationNotFound, KeyNotFound),
)
async def get_key(destination_id: str, kid: str, session: SessionDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return await service.find_key(session, destination_id, kid)
