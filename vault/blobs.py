"""A folder of content-addressed, immutable blobs: this device's `HOME/blobs/` and a sync folder's
`<AccountID>/blobs/` alike.

A blob appears under its name (its address: vault/attachments.py `address_of`) only complete: it
is written to a dot-named temp file, flushed and renamed; a kill -9 mid-write leaves only a
dot-file, which no reader looks at and `sweep` removes. A blob present is never written again.
A blob copied in from elsewhere becomes visible only once a check passes on the complete temp
file (its address is its name; where the record is known, it opens in full): nothing
unauthenticated is ever stored under a blob name.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from .attachments import address_of
from .durable import fsync_dir, start_writeback
from .errors import TamperError

_NAME = re.compile(r"[0-9a-f]{64}")
_COPY_BLOCK = 1 << 20
#: A copy in the kernel goes this much at a time, each piece's writeback started at once.
_COPY_STEP = 4 << 20
#: A temp file older than this is a leftover of a killed writer (a live one writes continuously).
STALE_TEMP_SECONDS = 3600


class BlobWriter:
    """A blob being written: `write` bytes, set `name`, and `BlobDir.new` renames it to that.

    `mirrors`: descriptors of other copies written in the same pass (`BlobDir.new`), each best
    effort: one that fails is dropped, and the blob still completes here."""

    def __init__(self, fd: int, mirrors: Sequence[int] = ()) -> None:
        self._fd = fd
        self.mirrors = list(mirrors)
        self.size = 0
        self.name = ""

    def write(self, data: bytes | memoryview) -> int:
        _write_at_end(self._fd, data, self.size)
        for fd in list(self.mirrors):
            try:
                _write_at_end(fd, data, self.size)
            except OSError:
                self.mirrors.remove(fd)
        self.size += len(data)
        return len(data)


def _write_at_end(fd: int, data: bytes | memoryview, offset: int) -> None:
    """All of `data` written to `fd` (at `offset`, its end), its writeback started at once so the
    fsync at the end finds little left to do."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    start_writeback(fd, offset, len(data))


def check_address(f: BinaryIO, name: str) -> None:
    """The default check of a copied blob: its address is its name."""
    if address_of(f) != name:
        raise TamperError("an attachment blob does not match its record (changed or damaged)")


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
    def new(self, mirrors: Sequence[BlobDir] = ()) -> Iterator[BlobWriter]:
        """Write a blob; on leaving the block it is flushed and renamed to `writer.name` (nothing
        is kept when the block raises or leaves no name).

        `mirrors`: other blob folders (a sync folder's) given the same bytes in the same pass, so
        a file goes to each place at once instead of being copied there by the next sync (a 10 MB
        file: one pass of 9 ms instead of a second of 10 ms after it). Each is best effort: one
        that cannot be written (folder gone, disk full) is left out, and the next sync copies the
        blob there. A mirror's copy is named after this folder's, never before."""
        with contextlib.ExitStack() as stack:
            tmp, out = stack.enter_context(self._temp())
            copies: dict[int, tuple[BlobDir, Path, BinaryIO]] = {}
            for mirror in mirrors:
                with contextlib.suppress(OSError):
                    m_tmp, m_out = stack.enter_context(mirror._temp(best_effort=True))
                    copies[m_out.fileno()] = (mirror, m_tmp, m_out)
            writer = BlobWriter(out.fileno(), list(copies))
            yield writer
            out.flush()
            os.fsync(out.fileno())
            out.close()
            self._publish(tmp, writer.name)
            for fd in writer.mirrors:
                mirror, m_tmp, m_out = copies[fd]
                with contextlib.suppress(OSError, TamperError):
                    os.fsync(fd)  # its bytes before its name, as for every copy (`receive`)
                    m_out.close()
                    mirror._publish(m_tmp, writer.name, durable_name=False)

    def copy_in(
        self, src: BinaryIO, name: str, check: Callable[[BinaryIO], None] | None = None
    ) -> None:
        """Store the blob read from `src` under `name`, only once `check(temp file)` passes on the
        complete copy (default: its address is `name`); TamperError from the check otherwise."""
        if self.path(name).exists():
            return
        with self.receive(name, check) as out:
            _copy(src, out)

    @contextlib.contextmanager
    def receive(
        self, name: str, check: Callable[[BinaryIO], None] | None = None
    ) -> Iterator[BinaryIO]:
        """`copy_in` for bytes that arrive piece by piece (a Wi-Fi stream): write them to the
        file given; on leaving the block it is flushed, checked and only then named."""
        self.path(name)  # a bad name is refused before anything is written
        with self._temp() as (tmp, out):
            yield out
            out.flush()
            os.fsync(out.fileno())
            out.close()
            with open(tmp, "rb") as f:
                (check or (lambda g: check_address(g, name)))(f)
            # a copy: its name need not be durable at once (a crash that loses the rename only
            # means the blob is copied again by the next sync); its bytes are (fsync above), so a
            # name never survives a crash without them
            self._publish(tmp, name, durable_name=False)

    @contextlib.contextmanager
    def _temp(self, best_effort: bool = False) -> Iterator[tuple[Path, BinaryIO]]:
        """A new 0600 dot-file in the folder, removed on the way out unless renamed; `best_effort`
        (a mirror): a failure to close or remove it is not raised (a sync folder gone meanwhile)."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.folder / f".blob.tmp-{os.urandom(6).hex()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        out = os.fdopen(fd, "wb")
        try:
            yield tmp, out
        finally:
            try:
                out.close()
                tmp.unlink()
            except FileNotFoundError:
                pass  # renamed: the blob it became stays
            except OSError:
                if not best_effort:
                    raise

    def _publish(self, tmp: Path, name: str, durable_name: bool = True) -> None:
        """Rename the complete, fsynced temp file to `name`; `durable_name`: also fsync the folder,
        so the name survives a crash (a new blob here, which a record is about to name)."""
        target = self.path(name)
        if target.exists():
            return  # immutable: the same blob is already there
        os.replace(tmp, target)
        if durable_name:
            fsync_dir(self.folder)

    def remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(name).unlink()

    def older_than(self, cutoff: float) -> dict[str, os.stat_result]:
        """Blobs last modified before `cutoff` (a time), each with its stat: one listing of the
        folder, no blob opened."""
        out: dict[str, os.stat_result] = {}
        try:
            with os.scandir(self.folder) as entries:
                for e in entries:
                    if _NAME.fullmatch(e.name):
                        with contextlib.suppress(OSError):
                            st = e.stat(follow_symlinks=False)
                            if stat.S_ISREG(st.st_mode) and st.st_mtime < cutoff:
                                out[e.name] = st
        except FileNotFoundError:
            pass
        return out

    def remove_if_unchanged(self, name: str, seen: os.stat_result) -> bool:
        """Remove the blob `name` when it is still the file `seen` (same inode, same mtime): one
        written again meanwhile (removed and fetched back) is kept. True when removed."""
        path = self.path(name)
        try:
            now = os.stat(path, follow_symlinks=False)
            if (now.st_ino, now.st_dev, now.st_mtime_ns) != (
                seen.st_ino,
                seen.st_dev,
                seen.st_mtime_ns,
            ):
                return False
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Held while a reader lists the folder and then reads what it listed (a backup): blobs
        are not collected meanwhile (`collecting`), so none listed disappears before it is read.
        A shared lock on the folder (flock), so readers do not exclude each other."""
        with self._flock(fcntl.LOCK_SH):
            yield

    @contextlib.contextmanager
    def collecting(self) -> Iterator[bool]:
        """Held while unnamed blobs are removed: True when no reader holds `reading` (the
        collection then goes ahead), False when one does (it is left for the next time)."""
        with self._flock(fcntl.LOCK_EX | fcntl.LOCK_NB) as held:
            yield held

    @contextlib.contextmanager
    def _flock(self, how: int) -> Iterator[bool]:
        try:
            fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            yield True  # no folder: nothing to read or remove
            return
        try:
            try:
                fcntl.flock(fd, how)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # releases the lock

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


def _copy(src: BinaryIO, out: BinaryIO) -> None:
    """All of `src` from its position into `out` (a new, empty temp file): in the kernel when
    `src` is a file (copy_file_range: no pass through Python, a clone on filesystems that share
    extents), else 1 MiB at a time."""
    try:
        fin, fout = src.fileno(), out.fileno()
        info = os.fstat(fin)
    except (AttributeError, OSError, ValueError):
        info = None
    if info is None or not stat.S_ISREG(info.st_mode):  # a stream, a pipe, a socket
        shutil.copyfileobj(src, out, _COPY_BLOCK)
        return
    begin = pos = src.tell()  # explicit offsets: a buffered reader's fd position may differ
    end = info.st_size
    out.flush()
    try:
        while pos < end and (n := os.copy_file_range(fin, fout, min(_COPY_STEP, end - pos), pos)):
            start_writeback(fout, pos - begin, n)
            pos += n
    except OSError:  # not between these two files (older kernels, some filesystems): by hand
        os.ftruncate(fout, 0)
        os.lseek(fout, 0, os.SEEK_SET)
        src.seek(begin)
        shutil.copyfileobj(src, out, _COPY_BLOCK)
        return
    src.seek(pos)
    out.seek(0, os.SEEK_END)
