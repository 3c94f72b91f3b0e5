"""POST /v1/admin/import: services, authorities and responsibilities from a JSON or CSV file;
POST /v1/admin/import/areas: the Gemeindeverzeichnis."""

import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from ozg_common.auth import AdminDep
from ozg_common.db import SessionDep
from ozg_common.problems import (
    Forbidden,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
    problem_responses,
)
from ozg_zufi.areas.gemeindeverzeichnis import GV_FILE, POSTAL_CODE_FILE
from ozg_zufi.errors import InvalidImport
from ozg_zufi.imports.schemas import AreaImportResult, ImportBundle, ImportResult
from ozg_zufi.imports.service import bundle_from_csv, bundle_from_json, import_area_files, import_bundle
from ozg_zufi.imports.uploads import media_type, read_body, save_file_parts
from ozg_zufi.state import StateDep

admin_router = APIRouter(prefix="/v1/admin/import", tags=["admin"])

IMPORT_ERRORS = (Unauthorized, Forbidden, InvalidImport, UnsupportedMediaType, PayloadTooLarge)
AREA_PARTS = {"gemeindeverzeichnis": GV_FILE, "postalCodes": POSTAL_CODE_FILE}
"""Multipart part → the file name `python -m ozg_zufi import-areas --from <folder>` reads."""


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
    responses=problem_responses(*IMPORT_ERRORS),
)
async def bulk_import(
    request: Request,
    session: SessionDep,
    zufi: StateDep,
    _admin: AdminDep,
    kind: Annotated[
        Literal["services", "authorities", "responsibilities"] | None,
        Query(description="What the CSV rows are (CSV only)."),
    ] = None,
) -> ImportResult:
    body_type = media_type(request)
    if body_type not in {"application/json", "text/csv"}:
        raise UnsupportedMediaType("Send application/json (a bundle) or text/csv (with ?kind=).")
    body = await read_body(request)
    if body_type == "application/json":
        bundle = bundle_from_json(body)
    elif kind is None:
        raise InvalidImport("A CSV import needs ?kind=services|authorities|responsibilities.")
    else:
        bundle = bundle_from_csv(body, kind)
    return await import_bundle(session, zufi, bundle)


@admin_router.post(
    "/areas",
    summary="Import or refresh the Gemeindeverzeichnis (areas, ARS/AGS, postal codes)",
    description=(
        "Multipart upload of the two files `python -m ozg_zufi import-areas` reads: "
        f"`gemeindeverzeichnis` (Destatis GV-ISys, `{GV_FILE}`) and `postalCodes` "
        f"(`{POSTAL_CODE_FILE}`). Areas are upserted and the postal code mapping is replaced by the "
        "upload's, so send the complete directory. Idempotent; answered once routing uses the new data."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": list(AREA_PARTS),
                        "properties": {
                            name: {"type": "string", "format": "binary", "description": file}
                            for name, file in AREA_PARTS.items()
                        },
                    }
                }
            },
        }
    },
    responses=problem_responses(*IMPORT_ERRORS),
)
async def upload_areas(request: Request, zufi: StateDep, _admin: AdminDep) -> AreaImportResult:
    if media_type(request) != "multipart/form-data":
        raise UnsupportedMediaType(
            "Send multipart/form-data with the parts gemeindeverzeichnis and postalCodes."
        )
    with tempfile.TemporaryDirectory(prefix="zufi-areas-") as folder:
        directory = Path(folder)
        await save_file_parts(request, {part: directory / file for part, file in AREA_PARTS.items()})
        return await import_area_files(zufi, directory)
