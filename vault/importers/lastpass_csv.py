"""LastPass CSV export: url, username, password, totp, extra, name, grouping, fav (older exports
lack totp). `extra` is the notes; a secure note has the url `http://sn`, and a typed one (card,
bank account, address, …) starts its notes with `NoteType:…` then one `Label:value` per line,
the last being `Notes:` with the rest of the text. `grouping` is the folder, sub-folders
separated by backslashes."""

from __future__ import annotations

from typing import IO

from ..templates import template
from .common import Draft, ImportReport, build, header_rows, host_of, truthy

WHAT = "LastPass CSV export"
KNOWN = {"url", "username", "password", "totp", "extra", "name", "grouping", "fav"}
NOTE_TYPES = {
    "credit card": "credit-card",
    "bank account": "bank-account",
    "address": "identity",
    "email account": "email-account",
    "passport": "passport",
    "driver's license": "drivers-licence",
    "software license": "software-licence",
    "wi-fi password": "wifi",
    "membership": "membership",
    "insurance": "insurance",
    "health insurance": "insurance",
    "generic": "note",
}
#: Labels in typed notes (lower case) → our template field, tried in the note's template.
LABELS = {
    "name on card": "cardholder",
    "number": "number",
    "security code": "cvv",
    "expiration date": "expiry",
    "type": "issuer",
    "bank name": "bank",
    "account number": "number",
    "routing number": "routing",
    "swift code": "swift",
    "iban number": "iban",
    "pin": "pin",
    "first name": "first-name",
    "last name": "last-name",
    "email address": "email",
    "phone": "phone",
    "birthday": "birthday",
    "username": "username",
    "password": "password",
    "server": "imap",
    "smtp server": "smtp",
    "ssid": "ssid",
    "connection type": "security",
    "license key": "licence-key",
    "version": "version",
    "company": "company",
    "policy number": "policy",
    "membership number": "member-id",
    "organization": "organisation",
    "expiration": "expires",
    "issuing authority": "region",
    "country": "country",
    "name": "full-name",
}
_MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        1,
    )
}


def month_year(value: str) -> str:
    """LastPass dates 'June,2025' → '06/2025' (anything else unchanged)."""
    month, sep, year = value.partition(",")
    n = _MONTHS.get(month.strip().lower())
    if sep and n and year.strip().isdigit():
        return f"{n:02d}/{year.strip()}"
    return value


def read(stream: IO[bytes]) -> ImportReport:
    cols, rows = header_rows(
        stream, WHAT, ("url", "username", "password", "extra", "name", "grouping"), "lastpass-csv"
    )
    report = ImportReport("lastpass-csv")
    for row in rows:
        c = row.cells
        url, extra = cols.get(c, "url"), cols.get(c, "extra")
        draft = Draft(
            "login", cols.get(c, "name") or host_of(url), favorite=truthy(cols.get(c, "fav"))
        )
        draft.tags.append(cols.get(c, "grouping").replace("\\", "/"))
        if url.strip().lower() == "http://sn":
            _note(draft, extra)
        else:
            draft.notes = extra
            draft.set("url", url)
        draft.set("username", cols.get(c, "username"))
        draft.set("password", cols.get(c, "password"))
        draft.totp = cols.get(c, "totp")
        for name, value in cols.others(c, KNOWN):
            draft.add_extra(name, value)
        build(draft, report, row.where)
    return report


def _note(draft: Draft, extra: str) -> None:
    """A secure note: plain text, or `NoteType:…` and its labelled lines."""
    draft.type = "note"
    if not extra.startswith("NoteType:"):
        draft.notes = extra
        return
    lines = extra.split("\n")
    kind = lines[0].partition(":")[2].strip()
    draft.type = NOTE_TYPES.get(kind.lower(), "custom")
    if draft.type == "custom" and kind:
        draft.tags.append(kind)
    tpl = template(draft.type)
    for i, line in enumerate(lines[1:], 1):
        label, sep, value = line.partition(":")
        if not sep:
            draft.notes += ("\n" if draft.notes else "") + line
            continue
        if label == "Notes":
            draft.notes = "\n".join([value, *lines[i + 1 :]])
            return
        if label == "Language":
            continue
        ours = LABELS.get(label.strip().lower())
        if ours in ("expiry", "expires", "birthday"):
            value = month_year(value)
        if ours and tpl.spec(ours) is not None and ours not in draft.values:
            draft.set(ours, value)
        else:
            draft.add_extra(label, value)
