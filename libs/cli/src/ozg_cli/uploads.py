"""Uploads with a progress bar: httpx sends a body by reading it, and each read advances the bar."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from ozg_cli.output import progress

CHUNK = 64 * 1024

Advance = Callable[[int], None]


@contextmanager
def upload_progress(description: str, total: int, receiver: str) -> Iterator[Advance]:
    """A bar over `total` bytes; once all are sent it says that `receiver` is working on them."""
    with progress() as bar:
        task = bar.add_task(description, total=total)

        def advance(sent: int) -> None:
            bar.advance(task, sent)
            if bar.tasks[0].finished:
                bar.update(task, description=f"{description}: sent, {receiver} is importing")

        yield advance


class ProgressFile:
    """A file to upload as a multipart part, whose reads advance a progress bar."""

    def __init__(self, path: Path, advance: Advance) -> None:
        self._file = path.open("rb")
        self._advance = advance

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._advance(len(chunk))
        return chunk

    def fileno(self) -> int:
        return self._file.fileno()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "ProgressFile":
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


def file_chunks(path: Path, advance: Advance) -> Iterator[bytes]:
    """A file as a streamed request body."""
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            advance(len(chunk))
            yield chunk
