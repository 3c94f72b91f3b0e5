"""The filesystem blob store keeps what it is given, wherever the key points."""

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from ozg_common.blobstore import FilesystemBlobStore


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_blobs_land_in_new_and_existing_directories(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    first = await store.put("submissions/ab/1/metadata.jwe", b"metadata")
    second = await store.put("submissions/ab/1/data.jwe", b"data")
    streamed = await store.put_stream("submissions/cd/2/attachment.jwe", _chunks(b"at", b"tachment"))

    assert first.sha512 == hashlib.sha512(b"metadata").hexdigest()
    assert (second.size, streamed.size) == (4, 10)
    assert await store.get("submissions/ab/1/data.jwe") == b"data"
    assert await store.get("submissions/cd/2/attachment.jwe") == b"attachment"
    assert not list((tmp_path / "blobs").rglob("*.part")), "no temporary file is left behind"


async def test_a_directory_removed_meanwhile_is_made_again(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    await store.put("submissions/ab/1/metadata.jwe", b"first")
    assert await store.delete_prefix("submissions/ab/1") == 1

    await store.put("submissions/ab/1/metadata.jwe", b"again")
    await store.put_stream("submissions/ab/3/data.jwe", _chunks(b"streamed"))
    assert await store.get("submissions/ab/1/metadata.jwe") == b"again"
    assert await store.get("submissions/ab/3/data.jwe") == b"streamed"


async def test_a_put_replaces_what_an_earlier_or_interrupted_put_left(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    await store.put("submissions/ab/1/data.jwe", b"a longer first version")
    await store.put("submissions/ab/1/data.jwe", b"second")
    # What a process killed in the middle of writing a new key leaves behind.
    store.path("submissions/ab/2/data.jwe").parent.mkdir(parents=True)
    store.path("submissions/ab/2/data.jwe").write_bytes(b"trunc")

    replaced = await store.put("submissions/ab/2/data.jwe", b"complete")

    assert await store.get("submissions/ab/1/data.jwe") == b"second"
    assert await store.get("submissions/ab/2/data.jwe") == b"complete"
    assert replaced.size == len(b"complete")
    assert not list((tmp_path / "blobs").rglob("*.part")), "no temporary file is left behind"


async def test_blobs_deleted_after_commit_stay_when_the_transaction_rolls_back(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    await store.put("ab/kept", b"kept")
    await store.put("cd/gone", b"gone")
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'rows.db'}")
    try:
        async with AsyncSession(engine) as session, session.begin():
            await session.execute(text("SELECT 1"))
            store.delete_after_commit(session, ["ab/kept"])
            await session.rollback()
        async with AsyncSession(engine) as session, session.begin():
            await session.execute(text("SELECT 1"))
            store.delete_after_commit(session, ["cd/gone"])
            assert store.path("cd/gone").exists(), "nothing goes before the commit"
    finally:
        await engine.dispose()

    assert await store.get("ab/kept") == b"kept"
    assert not store.path("cd/gone").exists()
