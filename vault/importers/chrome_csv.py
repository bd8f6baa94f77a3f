"""Chrome-format password export (`name,url,username,password[,note]`): Chrome and Chromium,
Edge, Brave, Opera, Vivaldi and Google Password Manager all write it. LastPass and NordPass
exports share these columns but are refused here (their own formats keep folders and notes)."""

from __future__ import annotations

from typing import IO

from .common import Draft, ImportReport, build, header_rows, host_of

WHAT = "Chrome passwords CSV"
KNOWN = {"name", "url", "username", "password", "note"}


def read(stream: IO[bytes]) -> ImportReport:
    cols, rows = header_rows(stream, WHAT, ("name", "url", "username", "password"), "chrome-csv")
    report = ImportReport("chrome-csv")
    for row in rows:
        c = row.cells
        url = cols.get(c, "url")
        draft = Draft("login", cols.get(c, "name") or host_of(url), notes=cols.get(c, "note"))
        draft.set("url", url)
        draft.set("username", cols.get(c, "username"))
        draft.set("password", cols.get(c, "password"))
        for name, value in cols.others(c, KNOWN):
            draft.add_extra(name, value)
        build(draft, report, row.where)
    return report
