"""KeePassXC CSV export: "Group","Title","Username","Password","URL","Notes","TOTP","Icon",
"Last Modified","Created" (every cell quoted; group as a path from the root group, e.g.
"Root/Email/Work"). The group path below the root becomes a tag ("Email/Work")."""

from __future__ import annotations

from typing import IO

from .common import Draft, ImportReport, build, header_rows, iso_time

WHAT = "KeePassXC CSV export"
KNOWN = {
    "Group",
    "Title",
    "Username",
    "Password",
    "URL",
    "Notes",
    "TOTP",
    "Icon",
    "Last Modified",
    "Created",
}


def group_tag(path: str) -> str:
    """'Root/Email/Work' → 'Email/Work': the root group's own name is not a tag."""
    parts = [p for p in path.split("/") if p.strip()]
    return "/".join(parts[1:])


def read(stream: IO[bytes]) -> ImportReport:
    cols, rows = header_rows(
        stream, WHAT, ("Group", "Title", "Username", "Password", "URL"), "keepass-csv"
    )
    report = ImportReport("keepass-csv")
    for row in rows:
        c = row.cells
        draft = Draft(
            "login",
            cols.get(c, "Title"),
            notes=cols.get(c, "Notes"),
            created=iso_time(cols.get(c, "Created")),
            modified=iso_time(cols.get(c, "Last Modified")),
        )
        draft.tags.append(group_tag(cols.get(c, "Group")))
        draft.set("url", cols.get(c, "URL"))
        draft.set("username", cols.get(c, "Username"))
        draft.set("password", cols.get(c, "Password"))
        draft.totp = cols.get(c, "TOTP")
        for name, value in cols.others(c, KNOWN):
            draft.add_extra(name, value)
        build(draft, report, row.where)
    return report
