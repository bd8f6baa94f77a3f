"""KeePassXC CSV export: "Group","Title","Username","Password","URL","Notes","TOTP","Icon",
"Last Modified","Created" (every cell quoted; group as a path from the root group, e.g.
"Root/Email/Work"). The group path below the root becomes a tag ("Email/Work").

KeePass 2's own CSV ("KeePass CSV (1.x)": "Account","Login Name","Password","Web Site",
"Comments") is read too; it carries no groups, times or custom fields, so the report says that
KeePass's "KeePass XML (2.x)" export (format keepass-xml) keeps them."""

from __future__ import annotations

from typing import IO

from .common import Draft, ImportReport, build, header_rows, iso_time

WHAT = "KeePassXC / KeePass 2 CSV export"
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
    "Account",
    "Login Name",
    "Web Site",
    "Comments",
}


def group_tag(path: str) -> str:
    """'Root/Email/Work' → 'Email/Work': the root group's own name is not a tag."""
    parts = [p for p in path.split("/") if p.strip()]
    return "/".join(parts[1:])


def read(stream: IO[bytes]) -> ImportReport:
    cols, rows = header_rows(
        stream,
        WHAT,
        ("Group|Login Name", "Title|Account", "Username|Login Name", "Password", "URL|Web Site"),
        "keepass-csv",
    )
    report = ImportReport("keepass-csv")
    if cols.has("Login Name"):
        report.note(
            "line 1",
            "KeePass 2's CSV has no groups, times or custom fields; KeePass's "
            "'KeePass XML (2.x)' export, imported as keepass-xml, keeps them",
        )
    for row in rows:
        c = row.cells
        draft = Draft(
            "login",
            cols.get(c, "Title", "Account"),
            notes=cols.get(c, "Notes", "Comments"),
            created=iso_time(cols.get(c, "Created")),
            modified=iso_time(cols.get(c, "Last Modified")),
        )
        draft.tags.append(group_tag(cols.get(c, "Group")))
        draft.set("url", cols.get(c, "URL", "Web Site"))
        draft.set("username", cols.get(c, "Username", "Login Name"))
        draft.set("password", cols.get(c, "Password"))
        draft.totp = cols.get(c, "TOTP")
        for name, value in cols.others(c, KNOWN):
            draft.add_extra(name, value)
        build(draft, report, row.where)
    return report
