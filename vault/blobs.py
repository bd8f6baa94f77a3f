"""A folder of content-addressed, immutable blobs: this device's `HOME/blobs/` and a sync folder's
`<AccountID>/blobs/` alike.

A blob appears under its name (the hex SHA-256 of its bytes) only complete: it is written to a
dot-named temp file, flushed, hashed on the way, and renamed; a kill -9 mid-write leaves only a
dot-file, which no reader looks at and `sweep` removes. A blob present is never written again.
A blob copied in from elsewhere becomes visible only if its bytes hash to the name its (already
authenticated) record gave: nothing unauthenticated is ever stored under a blob name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .durable import fsync_dir
from .errors import TamperError

_NAME = re.compile(r"[0-9a-f]{64}")
_COPY_BLOCK = 1 << 20
#: A temp file older than this is a leftover of a killed writer (a live one writes continuously).
STALE_TEMP_SECONDS = 3600


class BlobWriter:
    """A blob being written: `write` bytes, then `BlobDir.new` names it by their hash."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._hash = hashlib.sha256()
        self.size = 0
        #: the blob's name, set once it is complete
        self.name = ""

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        self.size += len(data)
        return len(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class BlobDir:
    """Blobs in one folder (made 0700 on first write; blobs 0600)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise TamperError(f"{name!r} is not a blob name")
        return self.folder / name

    def has(self, name: str) -> bool:
        return self.path(name).is_file()

    def names(self) -> set[str]:
        try:
            return {p.name for p in self.folder.iterdir() if _NAME.fullmatch(p.name)}
        except FileNotFoundError:
            return set()

    @contextlib.contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        with open(self.path(name), "rb") as f:
            yield f

    @contextlib.contextmanager
    def new(self, expected: str | None = None) -> Iterator[BlobWriter]:
        """Write a blob; on leaving the block it is flushed and renamed to its hash, which must be
        `expected` when given (else TamperError and nothing is kept). `writer.name` after."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.folder / f".blob.tmp-{os.urandom(6).hex()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            try:
                writer = BlobWriter(fd)
                yield writer
                os.fsync(fd)
            finally:
                os.close(fd)
            name = writer.hexdigest()
            if expected is not None and name != expected:
                raise TamperError(
                    "an attachment blob does not match its record (changed or damaged)"
                )
            writer.name = name
            target = self.path(name)
            if target.exists():
                return  # immutable: the same bytes are already there
            os.replace(tmp, target)
            fsync_dir(self.folder)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def copy_in(self, src: BinaryIO, name: str) -> None:
        """Store the blob read from `src` under `name`, only if its bytes hash to it."""
        if self.has(name):
            return
        with self.new(expected=name) as w:
            while block := src.read(_COPY_BLOCK):
                w.write(block)

    def remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(name).unlink()

    def sweep(self, older_than: float = STALE_TEMP_SECONDS) -> int:
        """Remove temp files left by killed writers; returns how many."""
        gone = 0
        cutoff = time.time() - older_than
        try:
            entries = list(self.folder.iterdir())
        except FileNotFoundError:
            return 0
        for p in entries:
            if p.name.startswith(".blob.tmp-"):
                with contextlib.suppress(OSError):
                    if p.stat().st_mtime < cutoff:
                        p.unlink()
                        gone += 1
        return gone
