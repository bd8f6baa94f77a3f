"""The attachment section of a backup (`SRBK` v2): the blobs after the sealed body, streamed.

Each entry is `name (64 ASCII hex) ‖ u64 length ‖ blob bytes`; the number of entries and where
the section starts are in the backup's authenticated header. A restore stores only blobs that
records of the backup name (now or in a kept version), each once it opens in full under the file
key its record carries, before any record is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import BinaryIO

from .attachments import address_of
from .blobs import BlobDir
from .errors import FormatError, TamperError

_COPY = 1 << 20
ENTRY_HEAD = 64 + 8


def write_section(out: BinaryIO, blobs: BlobDir, names: list[str]) -> None:
    for name in names:
        path = blobs.path(name)
        size = path.stat().st_size
        out.write(name.encode() + size.to_bytes(8, "big"))
        with open(path, "rb") as src:
            left = size
            while left:
                block = src.read(min(_COPY, left))
                if not block:
                    raise FormatError(f"attachment blob {name[:12]} shrank while backed up")
                out.write(block)
                left -= len(block)


class _Part:
    """`length` bytes of `src` from where it stands, as a reader (a blob inside the backup)."""

    def __init__(self, src: BinaryIO, length: int) -> None:
        self._src, self._left = src, length

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        data = self._src.read(n)
        if len(data) < n:
            raise TamperError("the backup's attachment section is truncated")
        self._left -= len(data)
        return data

    def skip(self) -> None:
        """Past what was not read (a truncated file shows at the next entry or the end)."""
        self._src.seek(self._left, 1)
        self._left = 0


def entries(src: BinaryIO, count: int) -> Iterator[tuple[str, int, _Part]]:
    """(name, length, reader) for each blob; the caller reads or skips it before the next."""
    for _ in range(count):
        head = src.read(ENTRY_HEAD)
        if len(head) < ENTRY_HEAD:
            raise TamperError("the backup's attachment section is truncated")
        try:
            name = head[:64].decode("ascii")
        except UnicodeDecodeError:
            raise TamperError("the backup's attachment section is damaged") from None
        part = _Part(src, int.from_bytes(head[64:], "big"))
        yield name, int.from_bytes(head[64:], "big"), part
        part.skip()
    if src.read(1):
        raise TamperError("the backup has bytes after its attachment section")


def verify_section(src: BinaryIO, count: int) -> None:
    """Every blob carries its name (a backup is read back like this before it replaces one)."""
    for name, length, _ in entries(src, count):
        if address_of(src, src.tell(), length) != name:
            raise TamperError(f"attachment blob {name[:12]} in the backup does not match its name")


def restore_section(
    src: BinaryIO, count: int, into: BlobDir, wanted: Mapping[str, Callable[[BinaryIO], None]]
) -> int:
    """Copy in the blobs named in `wanted`, each once its check passes (it opens in full under
    its record's key); returns how many were new here."""
    added = 0
    for name, _, part in entries(src, count):
        if name in wanted and not into.has(name):
            into.copy_in(part, name, wanted[name])  # type: ignore[arg-type]
            added += 1
    return added
