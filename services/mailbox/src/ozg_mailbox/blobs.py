"""Attachment bytes on disk; the database keeps their sha512 and size."""

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger(__name__)


def sha512_hex(data: bytes) -> str:
    return hashlib.sha512(data).hexdigest()


class BlobStore:
    """One file per attachment id below `root`; ids are deterministic, so a retry rewrites the same file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, blob_id: uuid.UUID) -> Path:
        name = blob_id.hex
        return self.root / name[:2] / name

    async def write(self, blob_id: uuid.UUID, data: bytes) -> None:
        await asyncio.to_thread(self._write, self.path(blob_id), data)

    async def read(self, blob_id: uuid.UUID) -> bytes | None:
        path = self.path(blob_id)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    def delete_after_commit(self, session: AsyncSession, blob_ids: Iterable[uuid.UUID]) -> None:
        """Remove the files once the rows are gone for good; a rollback keeps both."""
        paths = [self.path(blob_id) for blob_id in blob_ids]
        if not paths:
            return

        def remove(_session: Any) -> None:
            for path in paths:
                path.unlink(missing_ok=True)

        event.listen(session.sync_session, "after_commit", remove, once=True)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(path)
