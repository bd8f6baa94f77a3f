"""mSecure 5/6 CSV export: no header; each row is `Title|id, Record Type, Tags, Notes`, then
one cell per field as `Field Name|type code|value` (the value may itself contain `|`).
Type codes seen: 0 text, 2 URL, 4 phone, 7 username, 8 password, 9 secret/PIN, 11 date,
12 card number. Notes escape newlines as a literal backslash-n."""

from __future__ import annotations

import re
from typing import IO

from ..errors import FormatError
from ..templates import FieldKind, template
from .common import CsvRow, Draft, ImportReport, build, csv_rows, split_tags

WHAT = "mSecure CSV export"
_FIELD = re.compile(r"^([^|]*)\|(\d+)\|(.*)$", re.DOTALL)

TYPES = {
    "login": "login",
    "web logins": "login",
    "credit card": "credit-card",
    "credit cards": "credit-card",
    "bank account": "bank-account",
    "bank accounts": "bank-account",
    "email account": "email-account",
    "email accounts": "email-account",
    "identity": "identity",
    "contact": "identity",
    "secure note": "note",
    "note": "note",
    "notes": "note",
    "password": "password",
    "passwords": "password",
    "software": "software-licence",
    "software license": "software-licence",
    "wi-fi": "wifi",
    "wifi": "wifi",
    "wireless router": "wifi",
    "passport": "passport",
    "driver's license": "drivers-licence",
    "drivers license": "drivers-licence",
    "membership": "membership",
    "memberships": "membership",
    "insurance": "insurance",
    "insurance policy": "insurance",
}
#: mSecure field labels (lower case) → our template field name, tried in the record's template.
NAMES = {
    "website": "url",
    "url": "url",
    "username": "username",
    "user name": "username",
    "password": "password",
    "one-time password": "totp",
    "one time password": "totp",
    "otp": "totp",
    "totp": "totp",
    "card number": "number",
    "expiration date": "expiry",
    "security code": "cvv",
    "name on card": "cardholder",
    "pin": "pin",
    "issuing bank": "issuer",
    "account number": "number",
    "routing number": "routing",
    "bank name": "bank",
    "account name": "holder",
    "account holder": "holder",
    "iban": "iban",
    "swift": "swift",
    "swift code": "swift",
    "email": "email",
    "email address": "email",
    "pop3 host": "imap",
    "imap server": "imap",
    "incoming server": "imap",
    "smtp host": "smtp",
    "smtp server": "smtp",
    "outgoing server": "smtp",
    "first name": "first-name",
    "last name": "last-name",
    "phone": "phone",
    "phone number": "phone",
    "address": "address",
    "birthday": "birthday",
    "date of birth": "birthday",
    "ssid": "ssid",
    "network name": "ssid",
    "security": "security",
    "security type": "security",
    "product": "product",
    "version": "version",
    "license key": "licence-key",
    "licence key": "licence-key",
    "key": "licence-key",
    "purchase date": "purchased",
    "full name": "full-name",
    "name": "full-name",
    "passport number": "number",
    "number": "number",
    "country": "country",
    "issue date": "issued",
    "expiry date": "expires",
    "expires": "expires",
    "state": "region",
    "organization": "organisation",
    "organisation": "organisation",
    "member id": "member-id",
    "membership number": "member-id",
    "company": "company",
    "policy number": "policy",
}
_LEGACY_YEAR = re.compile(r"^(\d{1,2})/00(\d{2})$")


def expiry(value: str) -> str:
    """mSecure's legacy card expiry '04/0029' → '04/2029' (others unchanged)."""
    m = _LEGACY_YEAR.match(value.strip())
    return f"{int(m.group(1)):02d}/20{m.group(2)}" if m else value


_KINDS = {"2": FieldKind.URL, "4": FieldKind.PHONE, "8": FieldKind.SECRET, "9": FieldKind.SECRET}


def _looks_like_msecure(row: CsvRow) -> bool:
    cells = row.cells
    return (
        len(cells) >= 4
        and bool(cells[1].strip())
        and ("|" in cells[0] or any(_FIELD.match(c) for c in cells[4:]))
    )


def read(stream: IO[bytes]) -> ImportReport:
    report = ImportReport("msecure-csv")
    first = True
    for row in csv_rows(stream, WHAT, sniff=False):
        if first:
            first = False
            if len(row.cells) == 1 and "msecure" in row.cells[0].lower():
                continue  # a title line some versions write
            if not _looks_like_msecure(row):
                raise FormatError(
                    f"this is not an {WHAT}: its rows should start with 'Title|id,Record Type,…' "
                    "(mSecure writes no header)"
                )
        if len(row.cells) < 4:
            n = len(row.cells)
            report.skip(
                row.where, f"only {n} cell{'' if n == 1 else 's'}; an mSecure row has at least 4"
            )
            continue
        title, _, _ = (
            row.cells[0].rpartition("|") if "|" in row.cells[0] else (row.cells[0], "", "")
        )
        kind = row.cells[1].strip()
        tpl = template(TYPES.get(kind.lower(), "custom"))
        draft = Draft(tpl.key, title, notes=row.cells[3].replace("\\n", "\n"))
        draft.tags += split_tags(row.cells[2], ";,")
        if tpl.key == "custom" and kind:
            draft.tags.append(kind)
        for n, cell in enumerate(row.cells[4:], 5):
            m = _FIELD.match(cell)
            if m is None:
                draft.add_extra(f"field {n}", cell)
                continue
            label, code, value = m.group(1).strip(), m.group(2), m.group(3)
            ours = NAMES.get(label.lower())
            if ours in ("expiry", "expires"):
                value = expiry(value)
            if ours == "totp":
                draft.totp = value
            elif ours and tpl.spec(ours) is not None and ours not in draft.values:
                draft.set(ours, value)
            else:
                draft.add_extra(label, value, _KINDS.get(code, FieldKind.TEXT))
        build(draft, report, row.where)
    if first:
        raise FormatError(f"this is not an {WHAT}: the file is empty")
    return report
