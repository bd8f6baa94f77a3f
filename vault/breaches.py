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
import stat
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from .errors import InvalidInputError

_LINE = re.compile(rb"^[0-9A-Fa-f]{40}:\d+\r?$")
_HASH = re.compile(rb"[0-9A-Fa-f]{40}:")


class BreachFile:
    """An open HIBP SHA-1 file; `count(password)` is how often it was seen in breaches (0: never)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise InvalidInputError(f"{self.path} is a folder, not a breach file")
        # O_NONBLOCK: a FIFO opens at once (then refused below) instead of waiting for a writer
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise InvalidInputError(
                f"{self.path} is not a regular file (a pipe or a device): the breach file is "
                "searched in place, so give the downloaded file itself"
            )
        os.set_blocking(fd, True)
        self._f: BinaryIO = os.fdopen(fd, "rb")
        self.size = st.st_size
        try:
            self._check_shape()
        except InvalidInputError:
            self._f.close()
            raise

    def _check_shape(self) -> None:
        """Refuse what a binary search would silently answer wrong: an empty file, another
        format, or lines not sorted by hash (HIBP's 'ordered by prevalence' download) — the first
        lines and 32 spread through the file are checked (a few reads, not the tens of GB)."""
        bad = f"{self.path} is not a Have I Been Pwned SHA-1 file (lines HASH:COUNT, sorted)"
        if not self.size:
            raise InvalidInputError(f"{self.path} is empty: not a Have I Been Pwned SHA-1 file")
        self._f.seek(0)
        head = [self._f.readline() for _ in range(8)]
        probes = [self._line_at(self.size * i // 32) or b"" for i in range(1, 32)]
        ordered = []
        for group in (head, probes):
            keys = []
            for line in group:
                if not line.endswith(b"\n"):
                    continue  # the end of the file, maybe a cut download's last line: not searched
                if not _LINE.match(line.rstrip(b"\n")):
                    raise InvalidInputError(bad)
                keys.append(line[:40].upper())
            ordered.append(keys)
        if not ordered[0] and not _LINE.match(head[0]):  # one line without a line break
            raise InvalidInputError(bad)
        keys = ordered[0] + [k for k in ordered[1] if not ordered[0] or k >= ordered[0][0]]
        if (
            any(b < a for a, b in zip(ordered[0], ordered[0][1:], strict=False))
            or any(b < a for a, b in zip(ordered[1], ordered[1][1:], strict=False))
            or len(keys) < len(ordered[0]) + len(ordered[1])
        ):
            raise InvalidInputError(
                f"{bad}: its lines are not in hash order (the 'ordered by hash' download is "
                "needed, not 'ordered by prevalence')"
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
        """The hash of the first whole line at or after `offset`; None past the end or on the
        cut last line of a truncated download (it sorts after every hash, as the end does)."""
        line = self._line_at(offset)
        if line is None or not _HASH.match(line):
            return None
        return line[:40].upper()
