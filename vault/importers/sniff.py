"""Guess which manager wrote an export from its first bytes, so the TUI can offer a format.

Only a guess to preselect: the reader chosen still checks the whole file (and refuses a CSV
header with another manager's columns). Reads at most SNIFF_BYTES; never raises on content.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from .common import Columns, csv_candidates, sniff_delimiter
from .pass_store import is_store

SNIFF_BYTES = 64 * 1024
_STRONGROOM = re.compile(rb'"format"\s*:\s*"strongroom-json"')
_BITWARDEN = (re.compile(rb'"items"\s*:'), re.compile(rb'"(encrypted|folders|collections)"\s*:'))
#: A password-protected or account-restricted Bitwarden export has no "items" until decrypted.
_BITWARDEN_LOCKED = re.compile(rb'"encKeyValidation_DO_NOT_EDIT"\s*:')
_KDBX, _KDB = bytes.fromhex("03d9a29a67fb4bb5"), bytes.fromhex("03d9a29a65fb4bb5")
_MSECURE_ROW = re.compile(r"^[^,\n]*\|\d+,")
_1PIF = re.compile(rb"^\*\*\*[0-9a-f-]{36}\*\*\*\s*$|^\{[^\n]*\"typeName\":\"[a-z]+\.", re.M)
#: JSON exports told apart by keys only they write (checked before Bitwarden's "items").
_JSON_MARKS = [
    ("enpass-json", (b'"template_type"', b'"parent_uuid"')),
    ("protonpass-json", (b'"userId"', b'"shareId"', b'"aliasEmail"')),
    ("keeper-json", (b'"shared_folders"', b'"login_url"', b'"$type"')),
    ("dashlane-json", (b'"AUTHENTIFIANT"', b'"SECURENOTE"', b'"PAYMENTMEANS_CREDITCARD"')),
]
#: Zip exports by the names of their members.
_ZIP_MEMBERS = [
    ("1password-1pux", re.compile(r"^export\.(data|attributes)$")),
    ("protonpass-json", re.compile(r"(^|/)data\.(json|pgp)$")),
    (
        "dashlane-csv",
        re.compile(r"(^|/)(credentials|securenotes|payments|ids|personalinfo)\.csv$", re.I),
    ),
]


def guess_bytes(head: bytes) -> str | None:
    """The import format these leading bytes look like, or None when nothing gives it away."""
    found = candidates(head)
    return found[0] if len(found) == 1 else None


def candidates(head: bytes) -> list[str]:
    """Every format these leading bytes could be (one when the file gives itself away)."""
    if head[:8] in (_KDBX, _KDB):
        return ["keepass-kdbx"]  # KeePass's signature (a .kdb is refused by that reader, saying so)
    if head.startswith(b"PK\x03\x04"):
        return _zip_candidates(head)
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if _1PIF.search(body):
        return ["1password-1pif"]
    if body.startswith(b"<"):
        return ["keepass-xml"] if b"<KeePassFile" in body or b"KEEPASSX_DATABASE" in body else []
    if body.startswith(b"{"):
        if _STRONGROOM.search(body):
            return ["strongroom-json"]
        if _BITWARDEN_LOCKED.search(body):
            return ["bitwarden-json"]
        for fmt, marks in _JSON_MARKS:
            if any(m in body for m in marks):
                return [fmt]
        if all(p.search(body) for p in _BITWARDEN):
            return ["bitwarden-json"]
        return []
    text = body.decode("utf-8", errors="replace")
    first = text.split("\n", 1)[0]
    if _MSECURE_ROW.match(first):
        return ["msecure-csv"]  # no header: "Title|id,Type,Tags,Notes,Name|kind|value,…"
    try:
        header = next(csv.reader([first.rstrip("\r")], delimiter=sniff_delimiter(first)))
    except (csv.Error, StopIteration):
        return []
    found = csv_candidates(Columns(header))
    if found:
        return found
    if _keeper_row(header):
        return ["keeper-csv"]
    return []


def _zip_candidates(head: bytes) -> list[str]:
    """The formats whose members the zip's local headers in `head` name (first member wins)."""
    at = 0
    while (at := head.find(b"PK\x03\x04", at)) >= 0 and at + 30 <= len(head):
        size = int.from_bytes(head[at + 26 : at + 28], "little")
        name = head[at + 30 : at + 30 + size].decode("utf-8", "replace")
        for fmt, pattern in _ZIP_MEMBERS:
            if pattern.search(name):
                return [fmt]
        at += 4
    return []


def _keeper_row(cells: list[str]) -> bool:
    """Keeper writes no header: folder, title, login, password, website, notes, shared folder,
    then custom fields as name/value pairs."""
    if len(cells) < 7 or (len(cells) - 7) % 2:
        return False
    site = cells[4].strip()
    words = {c.strip().lower() for c in cells}
    return (not site or "." in site or "://" in site) and not words & {"title", "password"}


def guess_format(path: Path) -> str | None:
    """`guess_bytes` on the start of the file at `path`; None when it cannot be read."""
    found = path_candidates(path)
    return found[0] if len(found) == 1 else None


def path_candidates(path: Path) -> list[str]:
    """`candidates` for the file at `path` (a pass store for a folder with `.gpg-id`); empty
    when it cannot be read."""
    if path.is_dir():
        return ["pass"] if is_store(path) else []
    try:
        with open(path, "rb") as f:
            return candidates(f.read(SNIFF_BYTES))
    except OSError:
        return []
