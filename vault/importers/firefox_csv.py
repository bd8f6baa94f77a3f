"""Firefox password export: url, username, password, httpRealm, formActionOrigin, guid,
timeCreated, timeLastUsed, timePasswordChanged (times in Unix milliseconds). The row Firefox
keeps for its own account (`chrome://FirefoxAccounts`, sync keys) is not a login: left out."""

from __future__ import annotations

from typing import IO

from .common import Draft, ImportReport, build, header_rows, host_of, unix_ms

WHAT = "Firefox passwords CSV"
KNOWN = {
    "url",
    "username",
    "password",
    "httpRealm",
    "formActionOrigin",
    "guid",
    "timeCreated",
    "timeLastUsed",
    "timePasswordChanged",
}


def read(stream: IO[bytes]) -> ImportReport:
    cols, rows = header_rows(
        stream,
        WHAT,
        ("url", "username", "password", "guid|formActionOrigin|httpRealm"),
        "firefox-csv",
    )
    report = ImportReport("firefox-csv")
    for row in rows:
        c = row.cells
        url = cols.get(c, "url")
        if url.strip().lower().startswith("chrome://firefoxaccounts"):
            report.lose(
                row.where,
                "Firefox account",
                "Firefox's own account credentials (chrome://FirefoxAccounts), not a website "
                "login; not imported",
                skipped=True,
            )
            continue
        created = unix_ms(cols.get(c, "timeCreated"))
        changed = unix_ms(cols.get(c, "timePasswordChanged"))
        draft = Draft(
            "login",
            host_of(url),
            created=created,
            modified=max(t for t in (created, changed, 0.0) if t is not None) or None,
        )
        draft.set("url", url)
        draft.set("username", cols.get(c, "username"))
        draft.set("password", cols.get(c, "password"))
        draft.add_extra("http realm", cols.get(c, "httpRealm"))
        form = cols.get(c, "formActionOrigin")
        if form.strip() and form.strip() != url.strip():
            draft.add_extra("form action", form)
        for name, value in cols.others(c, KNOWN):
            draft.add_extra(name, value)
        build(draft, report, row.where)
    return report
