"""Admin API of explicit responsibilities."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from ozg_common.auth import AdminDep
from ozg_common.db import SessionDep
from ozg_common.pagination import LIMIT_DEFAULT, Limit, Offset
from ozg_common.problems import Forbidden, Unauthorized, problem_responses
from ozg_zufi.errors import InvalidLeikaKey, ResponsibilityNotFound, UnknownReference
from ozg_zufi.responsibilities import service as responsibilities
from ozg_zufi.responsibilities.schemas import ResponsibilitiesPage, ResponsibilityIn, ResponsibilityOut
from ozg_zufi.state import StateDep

admin_router = APIRouter(prefix="/v1/admin/responsibilities", tags=["admin"])


@admin_router.get(
    "",
    summary="Explicit responsibilities",
    responses=problem_responses(Unauthorized, Forbidden, InvalidLeikaKey),
)
async def list_responsibilities(
    session: SessionDep,
    _admin: AdminDep,
    leika_key: Annotated[str | None, Query(alias="leikaKey")] = None,
    offset: Offset = 0,
    limit: Limit = LIMIT_DEFAULT,
) -> ResponsibilitiesPage:
    rows, total = await responsibilities.list_responsibilities(
        session, leika_key=leika_key, offset=offset, limit=limit
    )
    page = [responsibilities.responsibility_out(row) for row in rows]
    return ResponsibilitiesPage(count=len(page), offset=offset, total_count=total, responsibilities=page)


@admin_router.put(
    "",
    summary="Set the authority doing a service in an area",
    responses=problem_responses(Unauthorized, Forbidden, UnknownReference),
)
async def put_responsibility(
    session: SessionDep, zufi: StateDep, _admin: AdminDep, body: ResponsibilityIn
) -> ResponsibilityOut:
    return responsibilities.responsibility_out(await responsibilities.put_responsibility(session, zufi, body))


@admin_router.delete(
    "/{responsibility_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an explicit responsibility",
    responses=problem_responses(Unauthorized, Forbidden, ResponsibilityNotFound),
)
async def delete_responsibility(
    session: SessionDep, zufi: StateDep, _admin: AdminDep, responsibility_id: uuid.UUID
) -> Response:
    await responsibilities.delete_responsibility(session, zufi, responsibility_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
