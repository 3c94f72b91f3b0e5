"""Request bodies of imports, streamed: never more than a limit, file parts straight to disk."""

import asyncio
import shutil
from collections.abc import AsyncGenerator, Mapping
from pathlib import Path

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from ozg_common.problems import PayloadTooLarge
from ozg_zufi.errors import InvalidImport

MAX_IMPORT_BYTES = 50 * 1024 * 1024


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def limited(request: Request, limit: int = MAX_IMPORT_BYTES) -> AsyncGenerator[bytes, None]:
    """The request body's chunks; a body longer than `limit` ends the request with 413."""
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"An import may hold at most {limit} bytes.")
        yield chunk


async def read_body(request: Request, limit: int = MAX_IMPORT_BYTES) -> bytes:
    body = bytearray()
    async for chunk in limited(request, limit):
        body.extend(chunk)
    return bytes(body)


async def save_file_parts(
    request: Request, targets: Mapping[str, Path], limit: int = MAX_IMPORT_BYTES
) -> None:
    """Write each named file part of a multipart/form-data body to its target; all are required."""
    parser = MultiPartParser(request.headers, limited(request, limit), max_files=len(targets))
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidImport(f"The upload is not a valid multipart form: {exc.message}") from None
    try:
        for name, value in form.multi_items():
            if name not in targets:
                raise InvalidImport(f"Unknown part {name!r}; send {_names(targets)}.")
            if not isinstance(value, UploadFile):
                raise InvalidImport(f"Send {name!r} as a file (curl: -F {name}=@file.csv).")
            await asyncio.to_thread(_copy, value, targets[name])
        missing = [name for name in targets if name not in form]
        if missing:
            raise InvalidImport(f"The upload lacks {_names(missing)}.")
    finally:
        await form.close()


def _copy(upload: UploadFile, target: Path) -> None:
    upload.file.seek(0)
    with target.open("wb") as out:
        shutil.copyfileobj(upload.file, out)


def _names(names: Mapping[str, object] | list[str]) -> str:
    return " and ".join(repr(name) for name in names)
