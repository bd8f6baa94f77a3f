"""Keeper CSV export (no header): folder, title, login, password, website address, notes,
shared folder, then custom fields as name, value pairs (a `TFC:Keeper` field holds the TOTP
link). Sub-folders are separated by backslashes."""

from __future__ import annotations

from typing import IO

from ..errors import FormatError
from .common import Columns, Draft, ImportReport, build, csv_candidates, csv_rows, host_of

WHAT = "Keeper CSV export"


def read(stream: IO[bytes]) -> ImportReport:
    report = ImportReport("keeper-csv")
    first = True
    for row in csv_rows(stream, WHAT):
        c = row.cells
        if first:
            first = False
            other = csv_candidates(Columns(c))
            if other:
                raise FormatError(
                    f"this is not a {WHAT}: it looks like a {other[0]} export (import it as "
                    f"{other[0]})"
                )
            if len(c) < 7 or (len(c) - 7) % 2:
                raise FormatError(
                    f"this is not a {WHAT}: Keeper writes rows of folder, title, login, "
                    "password, website, notes, shared folder, then name/value pairs "
                    "(and no header)"
                )
        if len(c) < 6:
            report.skip(row.where, f"only {len(c)} cells; a Keeper row has at least 6")
            continue
        url = c[4]
        draft = Draft("login", c[1] or host_of(url), notes=c[5])
        draft.tags += [c[0].replace("\\", "/"), c[6].replace("\\", "/") if len(c) > 6 else ""]
        draft.set("url", url)
        draft.set("username", c[2])
        draft.set("password", c[3])
        pairs = c[7:]
        for i in range(0, len(pairs), 2):
            name, value = pairs[i], pairs[i + 1] if i + 1 < len(pairs) else ""
            if name.strip() == "TFC:Keeper" and not draft.totp:
                draft.totp = value
            else:
                draft.add_extra(name, value)
        build(draft, report, row.where)
    if first:
        raise FormatError(f"this is not a {WHAT}: the file is empty")
    return report
