"""RoboForm CSV export: Name, Url, [MatchUrl,] Login, Pwd, Note, Folder, Rf_fields (or
RfFieldsV2). The form fields follow in the remaining cells, one per cell, as
`Field name$:kind:value` (kind `txt`, `pwd`, `chk`, …); those repeating Login and Pwd are not
kept twice. Folders are paths (`/Bank/Cards`) and become tags."""

from __future__ import annotations

from typing import IO

from ..templates import FieldKind
from .common import Draft, ImportReport, build, header_rows, host_of

WHAT = "RoboForm CSV export"
KNOWN = {"name", "url", "matchurl", "login", "pwd", "note", "folder", "rf_fields", "rffieldsv2"}


def read(stream: IO[bytes]) -> ImportReport:
    cols, rows = header_rows(stream, WHAT, ("Name", "Url", "Login", "Pwd"), "roboform-csv")
    report = ImportReport("roboform-csv")
    start = next(
        (i for i, n in enumerate(cols.names) if n.lower() in ("rf_fields", "rffieldsv2")),
        len(cols.names),
    )
    for row in rows:
        c = row.cells
        url = cols.get(c, "Url")
        draft = Draft("login", cols.get(c, "Name") or host_of(url), notes=cols.get(c, "Note"))
        draft.tags.append(cols.get(c, "Folder").strip("/"))
        draft.set("url", url)
        login, pwd = cols.get(c, "Login"), cols.get(c, "Pwd")
        draft.set("username", login)
        draft.set("password", pwd)
        match = cols.get(c, "MatchUrl")
        if match.strip() and match.strip() != url.strip():
            draft.add_extra("match url", match)
        for cell in c[start:]:
            name, sep, rest = cell.partition("$:")
            kind, sep2, value = rest.partition(":")
            if not (sep and sep2):
                draft.add_extra("field", cell)
                continue
            if value in (login, pwd) and value.strip():
                continue  # the form's copy of Login / Pwd
            if kind == "chk":
                continue  # check boxes: form state, not data
            draft.add_extra(name, value, FieldKind.SECRET if kind == "pwd" else FieldKind.TEXT)
        for name, value in cols.others(c[:start], KNOWN):
            draft.add_extra(name, value)
        build(draft, report, row.where)
    return report
