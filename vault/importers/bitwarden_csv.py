"""Bitwarden CSV export: folder, favorite, type (login | note), name, notes, fields, reprompt,
login_uri, login_username, login_password, login_totp. Organisation exports have
`collections` instead of `folder`. `fields` holds one `name: value` per line; `login_uri`
may hold several URIs separated by commas."""

from __future__ import annotations

from typing import IO

from ..templates import FieldKind
from .common import Draft, ImportReport, build, header_rows, split_tags, truthy

WHAT = "Bitwarden CSV export"
KNOWN = {
    "folder",
    "collections",
    "favorite",
    "type",
    "name",
    "notes",
    "fields",
    "reprompt",
    "login_uri",
    "login_username",
    "login_password",
    "login_totp",
    "login_fido2Credentials",
}


def read(stream: IO[bytes]) -> ImportReport:
    cols, rows = header_rows(
        stream, WHAT, ("name", "type", "login_username", "login_password"), "bitwarden-csv"
    )
    report = ImportReport("bitwarden-csv")
    for row in rows:
        c = row.cells
        kind = cols.get(c, "type").strip().lower()
        if kind not in ("login", "note", ""):
            report.lose(
                row.where,
                "item of an unknown type",
                f"unknown Bitwarden item type {kind[:20]!r}; not imported",
                skipped=True,
            )
            continue
        draft = Draft(
            "note" if kind == "note" else "login",
            cols.get(c, "name"),
            notes=cols.get(c, "notes"),
            favorite=truthy(cols.get(c, "favorite")),
        )
        draft.tags += [cols.get(c, "folder")] + split_tags(cols.get(c, "collections"), ",")
        uris = split_tags(cols.get(c, "login_uri"), ",")
        if uris:
            draft.set("url", uris[0])
        for n, u in enumerate(uris[1:], 2):
            draft.add_extra(f"url {n}", u, FieldKind.URL)
        draft.set("username", cols.get(c, "login_username"))
        draft.set("password", cols.get(c, "login_password"))
        draft.totp = cols.get(c, "login_totp")
        if cols.get(c, "login_fido2Credentials").strip():
            report.lose(
                row.where,
                "passkey",
                "its passkey is not imported (passkeys cannot be moved between managers yet); "
                "the rest of the item is",
            )
        for line in cols.get(c, "fields").splitlines():
            name, sep, value = line.partition(": ")
            if sep:
                draft.add_extra(name, value)
            elif line.strip():
                draft.add_extra("field", line)
        for name, value in cols.others(c, KNOWN):
            draft.add_extra(name, value)
        build(draft, report, row.where)
    return report
