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


def is_zip(stream: IO[bytes]) -> bool:
    """Whether the stream starts like a zip (the position is kept)."""
    start = stream.tell()
    head = stream.read(4)
    stream.seek(start)
    return head == b"PK\x03\x04"
