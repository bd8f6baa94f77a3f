"""Reading members of a zipped export (1PUX, Proton Pass, Dashlane's CSV zip) with a size cap.

Each member is read in chunks and counted, so a zip bomb stops at 256 MiB of output, and every
way a zip can be damaged is one FormatError naming the export.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable
from typing import IO

from ..errors import FormatError
from .common import MAX_JSON_BYTES

_DAMAGED = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,  # an encrypted member
    OSError,
    ValueError,
)


def members(
    stream: IO[bytes], what: str, wanted: Callable[[str], bool]
) -> tuple[dict[str, bytes], list[str]]:
    """(the wanted members' bytes by name, the names of every other file in the zip)."""
    out: dict[str, bytes] = {}
    others: list[str] = []
    total = 0
    try:
        with zipfile.ZipFile(stream) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                if not wanted(info.filename):
                    others.append(info.filename)
                    continue
                if total + info.file_size > MAX_JSON_BYTES:
                    raise FormatError(f"this {what} is larger than 256 MiB once unpacked")
                buf = io.BytesIO()
                with zf.open(info) as member:
                    while chunk := member.read(1024 * 1024):
                        buf.write(chunk)
                        if total + buf.tell() > MAX_JSON_BYTES:
                            raise FormatError(f"this {what} is larger than 256 MiB once unpacked")
                total += buf.tell()
                out[info.filename] = buf.getvalue()
    except FormatError:
        raise
    except _DAMAGED:
        raise FormatError(
            f"this is not a readable {what} (a damaged or truncated zip file)"
        ) from None
    return out, others


def some_members(
    stream: IO[bytes], what: str, names: set[str], cap: int = MAX_JSON_BYTES
) -> dict[str, bytes | str]:
    """The named members' bytes, read once the rest of the export is (a second pass over the
    zip), or for each one that cannot be had, why: together they stay under `cap`, so one past
    it is left out rather than the whole import refused. A name not in the zip is absent."""
    out: dict[str, bytes | str] = {}
    if not names:
        return out
    total = 0
    too_many = "the export's files pass 256 MiB together; add it afterwards with attach add"
    try:
        stream.seek(0)
        with zipfile.ZipFile(stream) as zf:
            for info in zf.infolist():
                if info.is_dir() or info.filename not in names or info.filename in out:
                    continue
                if total + info.file_size > cap:
                    out[info.filename] = too_many
                    continue
                buf = io.BytesIO()
                with zf.open(info) as member:
                    while chunk := member.read(1024 * 1024):
                        buf.write(chunk)
                        if total + buf.tell() > cap:
                            break
                if total + buf.tell() > cap:
                    out[info.filename] = too_many
                    continue
                total += buf.tell()
                out[info.filename] = buf.getvalue()
    except _DAMAGED:
        for name in names - set(out):
            out[name] = f"this {what} is damaged where it holds the file"
    return out


def is_zip(stream: IO[bytes]) -> bool:
    """Whether the stream starts like a zip (the position is kept)."""
    start = stream.tell()
    head = stream.read(4)
    stream.seek(start)
    return head == b"PK\x03\x04"
