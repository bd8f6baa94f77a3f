"""1Password CSV export. 1Password 8 writes Title, Url, Username, Password, OTPAuth, Favorite,
Archived, Tags, Notes; 1Password 7 let people pick columns (title, website/url, username,
password, notes, …). Columns are found by name; any other column becomes a custom field."""

from __future__ import annotations

from typing import IO

from .common import Draft, ImportReport, build, header_rows, split_tags, truthy

WHAT = "1Password CSV export"
TITLE, URL, USER, PASS = ("Title", "title"), ("Url", "URL", "website"), ("Username",), ("Password",)
OTP, NOTES = ("OTPAuth", "one-time password", "otp"), ("Notes", "notesPlain")
KNOWN = {*TITLE, *URL, *USER, *PASS, *OTP, *NOTES, "Favorite", "Archived", "Tags", "type"}


def read(stream: IO[bytes]) -> ImportReport:
    cols, rows = header_rows(
        stream, WHAT, ("Title", "Username", "Password", "Url|URL|website"), "1password-csv"
    )
    report = ImportReport("1password-csv")
    for row in rows:
        c = row.cells
        draft = Draft(
            "login",
            cols.get(c, *TITLE),
            notes=cols.get(c, *NOTES),
            favorite=truthy(cols.get(c, "Favorite")),
        )
        draft.set("url", cols.get(c, *URL))
        draft.set("username", cols.get(c, *USER))
        draft.set("password", cols.get(c, *PASS))
        draft.totp = cols.get(c, *OTP)
        draft.tags += split_tags(cols.get(c, "Tags"))
        if truthy(cols.get(c, "Archived")):
            draft.tags.append("1Password archive")
        for name, value in cols.others(c, KNOWN):
            draft.add_extra(name, value)
        build(draft, report, row.where)
    return report
