"""Guess which manager wrote an export from its first bytes, so the TUI can offer a format.

Only a guess to preselect: the reader chosen still checks the whole file (and refuses a CSV
header with another manager's columns). Reads at most SNIFF_BYTES; never raises on content.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from .common import Columns, guess_csv

SNIFF_BYTES = 64 * 1024
_STRONGROOM = re.compile(rb'"format"\s*:\s*"strongroom-json"')
_BITWARDEN = (re.compile(rb'"items"\s*:'), re.compile(rb'"(encrypted|folders|collections)"\s*:'))
_MSECURE_ROW = re.compile(r"^[^,\n]*\|\d+,")
_CHROME = ("name", "url", "username", "password")


def guess_bytes(head: bytes) -> str | None:
    """The import format these leading bytes look like, or None when nothing gives it away."""
    if head.startswith(b"PK\x03\x04"):
        return "1password-1pux"  # the only zip among the formats
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if body.startswith(b"<"):
        return "keepass-xml" if b"<KeePassFile" in body else None
    if body.startswith(b"{"):
        if _STRONGROOM.search(body):
            return "strongroom-json"
        if all(p.search(body) for p in _BITWARDEN):
            return "bitwarden-json"
        return None
    text = body.decode("utf-8", errors="replace")
    first = text.split("\n", 1)[0]
    if _MSECURE_ROW.match(first):
        return "msecure-csv"  # no header: "Title|id,Type,Tags,Notes,Name|kind|value,…"
    try:
        header = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return None
    cols = Columns(header)
    found = guess_csv(cols)
    if found:
        return found
    if all(cols.has(c) for c in _CHROME):
        return "chrome-csv"
    return None


def guess_format(path: Path) -> str | None:
    """`guess_bytes` on the start of the file at `path`; None when it cannot be read."""
    try:
        with open(path, "rb") as f:
            return guess_bytes(f.read(SNIFF_BYTES))
    except OSError:
        return None
