"""Writing a whole file so that a crash or a full disk never leaves a half-written one.

Backups, exports, the sync folder's data.mssb and the mail outbox all write this way: an
owner-only (0600) temporary file beside the target, flushed to disk, optionally read back and
checked, renamed over the target, then the folder itself flushed so the rename survives a power
cut. A reader sees the old file or the complete new one, never a part, and no other user ever
sees the bytes: the result is always a new 0600 file, whatever mode an old one had. A symbolic
link at the target is refused, never written through (a link planted where a Kit is saved
would otherwise send the Kit wherever it points). OSError reaches the caller, which words it
for its own layer.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_private_atomic(
    path: Path,
    data: bytes,
    *,
    verify: Callable[[bytes], None] | None = None,
    before_replace: Callable[[], None] | None = None,
    replace: bool = True,
) -> None:
    """Replace `path` with `data` (mode 0600). `verify(bytes read back)` raises to keep the old file;
    `before_replace()` runs last, just before the rename, and may raise to abandon the write.
    OSError(ELOOP) when `path` is a symbolic link. `replace=False`: never over an existing file
    (FileExistsError, nothing written), for files a person keeps (the Kit)."""
    write_private_streamed(
        path,
        lambda out: out.write(data),
        verify=(lambda tmp: verify(tmp.read_bytes())) if verify is not None else None,
        before_replace=before_replace,
        replace=replace,
    )


def write_private_streamed(
    path: Path,
    fill: Callable[[BinaryIO], object],
    *,
    verify: Callable[[Path], None] | None = None,
    before_replace: Callable[[], None] | None = None,
    replace: bool = True,
) -> None:
    """`write_private_atomic` for a file written piece by piece (`fill(file)`), never whole in
    memory (a backup with attachments); `verify(temp path)` reads it back as it likes."""
    _refuse_symlink(path)
    tmp = path.with_name(
        f".{path.name}.tmp-{os.urandom(4).hex()}"
    )  # sync/folder.py sweeps leftovers
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            fill(out)
            out.flush()
            os.fsync(out.fileno())
        if verify is not None:
            verify(tmp)
        if before_replace is not None:
            before_replace()
        _refuse_symlink(path)  # a link planted meanwhile is replaced by the rename, not followed
        if replace:
            os.replace(tmp, path)
        else:
            _rename_new(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    fsync_dir(path.parent)


def _rename_new(tmp: Path, path: Path) -> None:
    """Give `tmp` the name `path` only if no file has it: a hard link fails on an existing name
    in one step (no window for another writer). Where links are not supported (FAT, some network
    shares) the name is checked first and the file renamed."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "a file of this name exists", str(path)) from None
        os.replace(tmp, path)
        return
    tmp.unlink()


def _refuse_symlink(path: Path) -> None:
    if path.is_symlink():
        raise OSError(
            errno.ELOOP,
            "it is a symbolic link, and Strongroom does not write through links",
            str(path),
        )


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX); best effort where folders cannot be opened or synced."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on folders
    finally:
        os.close(fd)


#: sync_file_range(2)'s flag: start writing the range out, without waiting for it.
_SYNC_FILE_RANGE_WRITE = 2
_writeback: Callable[[int, int, int, int], int] | None | bool = False  # False: not looked up yet


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing `length` bytes at `offset` of `fd` to disk now, without
    waiting (Linux sync_file_range). A large file written in pieces then reaches the disk while
    the next pieces are produced, and the fsync that must follow (it alone is the guarantee)
    finds little left to do: a 10 MB blob's fsync went from 7 ms to 1 ms. A no-op where the call
    does not exist or is refused (other systems, some filesystems)."""
    global _writeback
    if _writeback is False:
        _writeback = _find_sync_file_range()
    if _writeback is None or length <= 0:
        return
    assert callable(_writeback)
    _writeback(fd, offset, length, _SYNC_FILE_RANGE_WRITE)  # a refusal (-1) changes nothing


def _find_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    import ctypes  # only when a large file is written: not on every command's start

    try:
        call = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (AttributeError, OSError):  # not Linux
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    call.restype = ctypes.c_int
    return call
