"""Offline breach check against Have I Been Pwned's SHA-1 "ordered by hash" password file.

The file (tens of GB) is lines `SHA1HEX:COUNT` (uppercase hex, CRLF), sorted by hash; a
password is looked up by binary search over byte offsets, reading a few lines per step and never
the whole file, so nothing is sent anywhere and memory stays flat (KeePassXC's offline HIBP check
works the same way). A lowercase file is accepted too.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from .errors import InvalidInputError

_LINE = re.compile(rb"^[0-9A-Fa-f]{40}:\d+\r?$")


class BreachFile:
    """An open HIBP SHA-1 file; `count(password)` is how often it was seen in breaches (0: never)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise InvalidInputError(f"{self.path} is a folder, not a breach file")
        self._f: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed by close()/with
        self.size = os.fstat(self._f.fileno()).st_size
        first = self._f.readline().rstrip(b"\n")
        if self.size and not _LINE.match(first):
            self._f.close()
            raise InvalidInputError(
                f"{self.path} is not a Have I Been Pwned SHA-1 file (lines HASH:COUNT, sorted)"
            )

    def __enter__(self) -> BreachFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._f.close()

    def count(self, password: str) -> int:
        digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
        return self.count_hash(digest.encode())

    def count_hash(self, digest: bytes) -> int:
        """Times the uppercase hex SHA-1 `digest` was seen (0 when absent)."""
        lo, hi = 0, self.size
        while lo < hi:  # smallest offset whose next whole line is >= digest
            mid = (lo + hi) // 2
            key = self._key_at(mid)
            if key is None or key >= digest:
                hi = mid
            else:
                lo = mid + 1
        line = self._line_at(lo)
        if line is None or line[:40].upper() != digest:
            return 0
        try:
            return int(line[41:].strip())
        except ValueError:
            return 0

    def _line_at(self, offset: int) -> bytes | None:
        """The first whole line starting at or after `offset`."""
        if offset == 0:
            self._f.seek(0)
        else:
            self._f.seek(offset - 1)
            self._f.readline()  # the rest of the line `offset - 1` is in
        line = self._f.readline()
        return line or None

    def _key_at(self, offset: int) -> bytes | None:
        line = self._line_at(offset)
        return None if line is None else line[:40].upper()
