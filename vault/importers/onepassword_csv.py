"""1Password CSV export. 1Password 8 writes Title, Url, Username, Password, OTPAuth, Favorite,
Archived, Tags, Notes. 1Password 4–7 let people pick the columns (title, type, username,
password, url/website, notes, tags, and each category's own: ccnum, cvv, expiry, cardholder,
firstname, …); the Mac version writes every column it knows (address, ainfo, …, section:…).

The `Type` column (Login, Credit Card, Identity, …) chooses the template; a card-only or
identity-only export needs no username or password column. Tags come comma-separated or, from
the Mac version, as `{( tag, "tag two" )}`. Columns are found by name; any other non-empty
column becomes a custom field (concealed when its name says secret: CVV, secret key, …)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

from ..templates import template
from .common import Columns, Draft, ImportReport, build, header_rows, split_tags, truthy
from .onepassword_1pux import FIELD_IDS

WHAT = "1Password CSV export"
TITLE, URL, USER, PASS = ("Title",), ("Url", "URL", "website"), ("Username",), ("Password",)
OTP, NOTES = ("OTPAuth", "one-time password", "otp"), ("Notes", "notesPlain")
#: Columns 1Password writes that are layout or derived copies, not data.
NOISE = {"ainfo", "autosubmit", "scope", "uuid", "type", "favorite", "archived", "tags"}
KNOWN = {*TITLE, *URL, *USER, *PASS, *OTP, *NOTES, *NOISE}
CATEGORIES = {
    "login": "login",
    "credit card": "credit-card",
    "identity": "identity",
    "secure note": "note",
    "password": "password",
    "bank account": "bank-account",
    "driver license": "drivers-licence",
    "driver's license": "drivers-licence",
    "email account": "email-account",
    "membership": "membership",
    "passport": "passport",
    "software license": "software-licence",
    "wireless router": "wifi",
}
#: Column names (lower case, as 1Password 4–7 write them) → our template field names.
COLUMNS = {
    **{k.lower(): v for k, v in FIELD_IDS.items()},
    "first name": "first-name",
    "last name": "last-name",
    "default phone": "phone",
    "birth date": "birthday",
    "card number": "number",
    "cardholder name": "cardholder",
    "expiry date": "expiry",
    "expiration date": "expiry",
    "verification number": "cvv",
    "account number": "number",
    "routing number": "routing",
    "bank name": "bank",
    "license key": "licence-key",
}
_MAC_TAGS = re.compile(r"^\s*\{\((.*)\)\}\s*$", re.DOTALL)


def tags_of(cell: str) -> list[str]:
    """'a, b' or the Mac form '{(\\n    a,\\n    "b c"\\n)}' → ['a', 'b c']."""
    m = _MAC_TAGS.match(cell)
    if m is None:
        return split_tags(cell, ",")
    return [t.strip().strip('"') for t in m.group(1).split(",") if t.strip().strip('"')]


def mac_tags_quoted(lines: Iterator[str]) -> Iterator[str]:
    """1Password 6/7 for Mac writes a tags cell as `"{(` newline `    "a",` newline `)}"`, its
    inner quotes not doubled: doubled here, so the csv module reads one cell, not an error."""
    inside = False
    for line in lines:
        bare = line.rstrip("\r\n")
        if inside:
            if bare.lstrip().startswith(')}"'):
                inside = False
            else:
                line = line.replace('""', '"').replace('"', '""')
        elif bare.endswith('"{('):
            inside = True
        yield line


def read(stream: IO[bytes]) -> ImportReport:
    cols, rows = header_rows(stream, WHAT, ("Title",), "1password-csv", mac_tags_quoted)
    report = ImportReport("1password-csv")
    for row in rows:
        _row(cols, row.cells, row.where, report)
    return report


def _inferred(cols: Columns, c: list[str]) -> str:
    """The template of a row without a Type: a card or identity export has no login columns."""

    def filled(*names: str) -> bool:
        return any(cols.get(c, n).strip() for n in names)

    if filled(*USER, *PASS, *URL):
        return "login"
    if filled("ccnum", "card number"):
        return "credit-card"
    if filled("firstname", "first name", "lastname", "last name"):
        return "identity"
    return "login"


def _row(cols: Columns, c: list[str], where: str, report: ImportReport) -> None:
    category = cols.get(c, "type").strip()
    type_key = CATEGORIES.get(category.lower(), "" if category else _inferred(cols, c))
    draft = Draft(
        type_key or "login",
        cols.get(c, *TITLE),
        notes=cols.get(c, *NOTES),
        favorite=truthy(cols.get(c, "Favorite")),
    )
    if category and not type_key:
        draft.tags.append(category)  # a category we have no template for (or a group name)
    tpl = template(draft.type)
    draft.set("url", cols.get(c, *URL))
    draft.set("username", cols.get(c, *USER))
    draft.set("password", cols.get(c, *PASS))
    draft.totp = cols.get(c, *OTP)
    draft.tags += tags_of(cols.get(c, "Tags"))
    if truthy(cols.get(c, "Archived")):
        draft.tags.append("1Password archive")
    for name, value in cols.others(c, KNOWN):
        if name.lower().startswith("section:"):
            continue  # section titles: layout
        ours = COLUMNS.get(name.lower())
        if ours and tpl.spec(ours) is not None and ours not in draft.values:
            draft.set(ours, value)
        else:
            draft.add_extra(name, value)
    build(draft, report, where)
