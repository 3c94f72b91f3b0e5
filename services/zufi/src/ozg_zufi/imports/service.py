"""Bulk import from JSON (a bundle) or CSV (one kind of record per file), all or nothing;
the Gemeindeverzeichnis from its two files."""

import asyncio
import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.problems import InvalidParam, ProblemError
from ozg_zufi.areas.gemeindeverzeichnis import GEMEINDE, read_area_data
from ozg_zufi.areas.repository import store_areas
from ozg_zufi.authorities.service import put_authority
from ozg_zufi.catalogue.service import put_service
from ozg_zufi.errors import InvalidImport
from ozg_zufi.identifiers import leika_key
from ozg_zufi.imports.schemas import AreaImportResult, ImportBundle, ImportResult
from ozg_zufi.responsibilities.service import put_responsibility
from ozg_zufi.state import ZufiState

SERVICE_TEXT_COLUMNS = ("requiredDocuments", "legalBasis", "deadline", "processingDuration")
"""JSON cells: `{"de": "..."}` for the texts, `{"minDuration": 1, "maxDuration": 4, "unit": "week"}`."""
AUTHORITY_LINK_COLUMNS = (
    "destinationLogo",
    "privacyPolicyUrl",
    "imprintUrl",
    "accessibilityUrl",
    "contactFormUrl",
)
ADDRESS_PARTS = ("street", "houseNumber", "additional", "zip", "city")


def _json_cell(text: str) -> Any:
    return json.loads(text) if text else None


def _list_cell(text: str) -> list[str]:
    return text.split()


def _service_row(row: dict[str, str]) -> dict[str, Any]:
    return {
        "leikaKey": row.get("leikaKey", ""),
        "name": row.get("name", ""),
        "level": row.get("level", ""),
        "paymentRequired": row.get("paymentRequired", "false").strip().lower() in {"true", "1", "yes", "ja"},
        "fees": _json_cell(row.get("fees", "")) or [],
        "formSchema": _json_cell(row.get("formSchema", "")),
        "xmlSchemaNamespace": row.get("xmlSchemaNamespace") or None,
        "xmlSchemaLocation": row.get("xmlSchemaLocation") or None,
        **{name: _json_cell(row.get(name, "")) for name in SERVICE_TEXT_COLUMNS},
    }


def _authority_row(row: dict[str, str]) -> dict[str, Any]:
    address = {k: row[k] for k in ADDRESS_PARTS if row.get(k)}
    versions = _list_cell(row.get("metadataVersions", ""))  # none named: the default versions
    return {
        "id": row.get("id", ""),
        "name": row.get("name", ""),
        "shortName": row.get("shortName") or None,
        "areaId": row.get("areaId", ""),
        "address": address,
        "postalAddress": _json_cell(row.get("postalAddress", "")) or {},
        "contactPersons": _json_cell(row.get("contactPersons", "")) or [],
        **{name: row.get(name) or None for name in AUTHORITY_LINK_COLUMNS},
        "destination": {
            "id": row.get("destinationId") or None,
            "status": row.get("status") or "active",
            "channelType": row.get("channelType") or "webservice",
            "url": row.get("url") or None,
            "signatureScheme": row.get("signatureScheme") or "standard-webhooks",
            "encryptionKey": _json_cell(row.get("encryptionKey", "")),
            "services": _list_cell(row.get("services", "")),
            "replyChannels": _list_cell(row.get("replyChannels", "")),
            **({"metadataVersions": versions} if versions else {}),
        },
    }


def _responsibility_row(row: dict[str, str]) -> dict[str, Any]:
    return {k: row.get(k, "") for k in ("leikaKey", "areaId", "authorityId")}


_CSV_ROWS: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
    "services": _service_row,
    "authorities": _authority_row,
    "responsibilities": _responsibility_row,
}


def bundle_from_json(body: bytes) -> ImportBundle:
    try:
        return ImportBundle.model_validate_json(body)
    except ValidationError as exc:
        raise _invalid(exc) from None


def bundle_from_csv(body: bytes, kind: str) -> ImportBundle:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidImport("The CSV file must be UTF-8.") from None
    rows = []
    for number, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        cells = {key.strip(): (value or "").strip() for key, value in row.items() if key}
        try:
            rows.append(_CSV_ROWS[kind](cells))
        except json.JSONDecodeError as exc:
            raise InvalidImport(f"Line {number}: a JSON cell is malformed ({exc.msg}).") from None
    try:
        return ImportBundle.model_validate({kind: rows})
    except ValidationError as exc:
        raise _invalid(exc) from None


def _invalid(exc: ValidationError) -> InvalidImport:
    params = [
        InvalidParam(name=".".join(str(part) for part in error["loc"]), reason=error["msg"])
        for error in exc.errors()
    ]
    return InvalidImport("Some records are invalid; nothing was imported.", invalid_params=params)


async def import_bundle(session: AsyncSession, zufi: ZufiState, bundle: ImportBundle) -> ImportResult:
    """Write every record through the same code as the single-record API (events included)."""
    for position, service in enumerate(bundle.services):
        await _each(f"services.{position}", put_service(session, zufi, leika_key(service.leika_key), service))
    for position, authority in enumerate(bundle.authorities):
        await _each(f"authorities.{position}", put_authority(session, zufi, authority.id, authority))
    for position, responsibility in enumerate(bundle.responsibilities):
        await _each(f"responsibilities.{position}", put_responsibility(session, zufi, responsibility))
    return ImportResult(
        services=len(bundle.services),
        authorities=len(bundle.authorities),
        responsibilities=len(bundle.responsibilities),
    )


async def _each(where: str, write: Any) -> None:
    try:
        await write
    except ProblemError as exc:
        reason = exc.detail or exc.title
        raise InvalidImport(
            f"{where}: {reason} Nothing was imported.",
            invalid_params=[InvalidParam(name=where, reason=reason)],
        ) from exc


_area_import = asyncio.Lock()
"""One area import at a time: each replaces the whole postal code mapping."""


async def import_area_files(zufi: ZufiState, directory: Path) -> AreaImportResult:
    """The Gemeindeverzeichnis files in `directory` into the database, then into the routing index.

    The same reader and writer as `python -m ozg_zufi import-areas`: areas are upserted, the postal
    code mapping is replaced by the files' (so upload the complete directory, not an excerpt).
    """
    try:
        data = await asyncio.to_thread(read_area_data, directory)
    except KeyError as exc:
        raise InvalidImport(f"A file lacks the column {exc.args[0]!r}; nothing was imported.") from None
    except UnicodeDecodeError:
        raise InvalidImport("The files must be UTF-8 CSV; nothing was imported.") from None
    except csv.Error as exc:
        raise InvalidImport(f"A file is not valid CSV ({exc}); nothing was imported.") from None
    gemeinden = sum(1 for area in data.areas if area.type == GEMEINDE)
    if not gemeinden:
        raise InvalidImport("The Gemeindeverzeichnis holds no Gemeinde (Satzart 60); nothing was imported.")
    async with _area_import:
        async with zufi.database.transaction() as session:
            counts = await store_areas(session, data)
        await zufi.reload()
    return AreaImportResult(
        areas=counts["areas"],
        gemeinden=gemeinden,
        postal_codes=counts["postal_codes"],
        skipped_postal_rows=counts["skipped_postal_rows"],
    )
