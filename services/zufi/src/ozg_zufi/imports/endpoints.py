"""POST /v1/admin/import: services, authorities and responsibilities from a JSON or CSV file."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from ozg_common.db import SessionDep
from ozg_common.problems import (
    Forbidden,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
    problem_responses,
)
from ozg_zufi.auth import AdminDep
from ozg_zufi.context import ZufiDep
from ozg_zufi.errors import InvalidImport
from ozg_zufi.imports.schemas import ImportBundle, ImportResult
from ozg_zufi.imports.service import bundle_from_csv, bundle_from_json, import_bundle

admin_router = APIRouter(prefix="/v1/admin/import", tags=["admin"])

MAX_IMPORT_BYTES = 50 * 1024 * 1024


@admin_router.post(
    "",
    summary="Bulk import (JSON bundle, or CSV of one kind)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": ImportBundle.model_json_schema()},
                "text/csv": {"schema": {"type": "string"}},
            }
        }
    },
    responses=problem_responses(
        Unauthorized, Forbidden, InvalidImport, UnsupportedMediaType, PayloadTooLarge
    ),
)
async def bulk_import(
    request: Request,
    session: SessionDep,
    zufi: ZufiDep,
    _admin: AdminDep,
    kind: Annotated[
        Literal["services", "authorities", "responsibilities"] | None,
        Query(description="What the CSV rows are (CSV only)."),
    ] = None,
) -> ImportResult:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in {"application/json", "text/csv"}:
        raise UnsupportedMediaType("Send application/json (a bundle) or text/csv (with ?kind=).")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_IMPORT_BYTES:
            raise PayloadTooLarge(f"An import may hold at most {MAX_IMPORT_BYTES} bytes.")
    if media_type == "application/json":
        bundle = bundle_from_json(bytes(body))
    elif kind is None:
        raise InvalidImport("A CSV import needs ?kind=services|authorities|responsibilities.")
    else:
        bundle = bundle_from_csv(bytes(body), kind)
    return await import_bundle(session, zufi, bundle)
