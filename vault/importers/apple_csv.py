"""Apple Passwords (macOS 15 / iOS 18 and later) and Safari CSV export:
`Title,URL,Username,Password,Notes,OTPAuth`; older Safari wrote `Title,Url,Username,Password`."""

from __future__ import annotations

from typing import IO

from .common import Draft, ImportReport, build, header_rows, host_of

WHAT = "Apple Passwords / Safari CSV export"
KNOWN = {"title", "url", "username", "password", "notes", "otpauth"}


def read(stream: IO[bytes]) -> ImportReport:
    cols, rows = header_rows(stream, WHAT, ("Title", "Username", "Password"), "apple-csv")
    report = ImportReport("apple-csv")
    for row in rows:
        c = row.cells
        url = cols.get(c, "URL")
        draft = Draft("login", cols.get(c, "Title") or host_of(url), notes=cols.get(c, "Notes"))
        draft.set("url", url)
        draft.set("username", cols.get(c, "Username"))
        draft.set("password", cols.get(c, "Password"))
        draft.totp = cols.get(c, "OTPAuth")
        for name, value in cols.others(c, KNOWN):
            draft.add_extra(name, value)
        build(draft, report, row.where)
    return report
