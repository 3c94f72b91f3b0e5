"""Payloads and attachments live in a blob store; databases keep only the key and the sha512.

One small interface, one filesystem implementation (a directory under `var/blobs/<service>`).
"""

import asyncio
import hashlib
import os
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from io import BufferedWriter
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

CHUNK = 1024 * 1024
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


def sha512_hex(content: bytes) -> str:
    """The digest databases keep next to a blob's key, and peers send next to its bytes."""
    return hashlib.sha512(content).hexdigest()


class BlobNotFound(KeyError):
    """No blob is stored under the key."""


class BlobTooLarge(ValueError):
    """A streamed blob grew beyond the size the caller allowed; nothing was stored."""


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """What the database keeps about a blob."""

    key: str
    size: int
    sha512: str


class BlobStore(Protocol):
    """Put, get and delete opaque bytes by key; every put answers the content's sha512."""

    async def put(self, key: str, content: bytes) -> StoredBlob: ...

    async def put_stream(
        self, key: str, chunks: AsyncIterable[bytes], *, max_size: int | None = None
    ) -> StoredBlob: ...

    async def get(self, key: str) -> bytes: ...

    def stream(self, key: str) -> AsyncIterator[bytes]: ...

    async def delete(self, key: str) -> bool: ...

    async def delete_prefix(self, prefix: str) -> int: ...

    def delete_after_commit(self, session: AsyncSession, keys: Iterable[str]) -> None: ...


def _checked(key: str) -> str:
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"invalid blob key {key!r}")
    return key


class FilesystemBlobStore:
    """Blobs as files below one directory: a new key is written in place (nobody names it before its
    put returned), an existing one is replaced through a temp file and a rename, so a reader of a
    key already in use sees the old content or the new, never a mix."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / _checked(key)

    def _temp(self, target: Path) -> Path:
        return target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")

    @staticmethod
    def _create(path: Path, flags: int = os.O_TRUNC) -> BufferedWriter:
        # Most writes go to a directory that exists: try first, create the directory on demand,
        # instead of a mkdir (and its FileExistsError) before every write.
        flags |= os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC
        try:
            descriptor = os.open(path, flags, 0o644)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, flags, 0o644)
        return open(descriptor, "wb")

    def _write(self, key: str, content: bytes) -> StoredBlob:
        target = self.path(key)
        try:
            # A new key is written in place: no reader names a key before its put returned, and
            # a write cut short by a crash is replaced by the next put of that key. Saves the
            # temp file's name and the rename.
            handle = self._create(target, os.O_EXCL)
        except FileExistsError:
            temp = self._temp(target)
            with self._create(temp) as handle:
                handle.write(content)
            temp.replace(target)
        else:
            with handle:
                handle.write(content)
        return StoredBlob(key, len(content), sha512_hex(content))

    async def put(self, key: str, content: bytes) -> StoredBlob:
        # Small payloads: a thread hop costs more than the write itself.
        if len(content) <= 256 * 1024:
            return self._write(key, content)
        return await asyncio.to_thread(self._write, key, content)

    async def put_stream(
        self, key: str, chunks: AsyncIterable[bytes], *, max_size: int | None = None
    ) -> StoredBlob:
        target = self.path(key)
        temp = self._temp(target)
        digest = hashlib.sha512()
        size = 0
        handle = await asyncio.to_thread(self._create, temp)
        try:
            async for chunk in chunks:
                size += len(chunk)
                if max_size is not None and size > max_size:
                    raise BlobTooLarge(f"the blob exceeds {max_size} bytes")
                digest.update(chunk)
                await asyncio.to_thread(handle.write, chunk)
            await asyncio.to_thread(handle.close)
            temp.replace(target)
        except BaseException:
            handle.close()
            temp.unlink(missing_ok=True)
            raise
        return StoredBlob(key, size, digest.hexdigest())

    async def get(self, key: str) -> bytes:
        path = self.path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        path = self.path(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> bool:
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every blob below `prefix/` (e.g. all of one submission); answers how many."""
        directory = self.path(prefix)

        def remove() -> int:
            if not directory.is_dir():
                return 0
            removed = 0
            for dirpath, _dirnames, filenames in os.walk(directory, topdown=False):
                for name in filenames:
                    (Path(dirpath) / name).unlink()
                    removed += 1
                Path(dirpath).rmdir()
            return removed

        return await asyncio.to_thread(remove)

    def delete_after_commit(self, session: AsyncSession, keys: Iterable[str]) -> None:
        """Delete the blobs once the session's transaction commits (the rows naming them are gone
        for good); a rollback keeps rows and blobs."""
        paths = [self.path(key) for key in keys]
        if not paths:
            return

        def remove(_session: Any) -> None:
            for path in paths:
                path.unlink(missing_ok=True)

        event.listen(session.sync_session, "after_commit", remove, once=True)
