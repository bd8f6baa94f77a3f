"""Dashlane exports: the CSV zip (credentials.csv, securenotes.csv, payments.csv, ids.csv,
personalInfo.csv — or any one of them alone) and the older JSON (categories such as
AUTHENTIFIANT, SECURENOTE, PAYMENTMEANS_CREDITCARD, EMAIL as lists of objects).

Each CSV is recognised by its header, not its name. Logins keep username2/username3 as extra
fields and category as a tag; `otpSecret`/`otpUrl` become the TOTP. Payment rows are cards or
bank accounts by `type`; ID rows passports, driver's licences or custom records; personal-info
rows identities. A zip member that is none of these is named as not imported. In the JSON,
unknown categories are imported as custom records with every value kept.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Any

from ..errors import FormatError
from ..templates import FieldKind
from .common import (
    Columns,
    CsvRow,
    Draft,
    ImportReport,
    build,
    csv_rows,
    host_of,
    load_json,
    text,
)
from .zipped import is_zip, members

WHAT = "Dashlane CSV export"
WHAT_JSON = "Dashlane JSON export"
RowReader = Callable[[Columns, CsvRow, ImportReport, str], None]


def read(stream: IO[bytes]) -> ImportReport:
    report = ImportReport("dashlane-csv")
    if is_zip(stream):
        found, others = members(stream, WHAT, lambda n: n.lower().endswith(".csv"))
        if not found:
            raise FormatError(f"this is not a {WHAT}: the zip holds no CSV file")
        read_any = False
        for name in sorted(found):
            short = name.rsplit("/", 1)[-1]
            read_any |= _table(io.BytesIO(found[name]), short, report, in_zip=True)
        if not read_any:
            raise FormatError(f"this is not a {WHAT}: none of its CSV files has a Dashlane header")
        for name in others:
            report.lose(name, "unread file", f"{name[:80]!r} in the zip is not read", skipped=True)
        return report
    if not _table(stream, "", report, in_zip=False):
        raise FormatError(
            f"this is not a {WHAT}: the header is none of Dashlane's (credentials, secure notes, "
            "payments, IDs, personal info)"
        )
    return report


def _kind(cols: Columns) -> RowReader | None:
    if cols.has("username2", "otpSecret", "otpUrl") and cols.has("password"):
        return _credential
    if cols.has("cc_number", "account_holder", "routing_number"):
        return _payment
    if cols.has("place_of_issue"):
        return _id
    if cols.has("address_door_code", "item_name", "email_type"):
        return _personal
    if cols.names and {n.lower() for n in cols.names} <= {"title", "note", "category"}:
        return _secure_note
    return None


def _table(stream: IO[bytes], name: str, report: ImportReport, *, in_zip: bool) -> bool:
    """Read one of Dashlane's CSVs into `report`; False when its header is not Dashlane's."""
    rows = csv_rows(stream, f"{WHAT} ({name})" if name else WHAT)
    first = next(rows, None)
    if first is None:
        return in_zip  # an empty table in the zip (no items of that kind)
    cols = Columns(first.cells)
    reader = _kind(cols)
    if reader is None:
        if in_zip:
            report.lose(name, "unread file", f"{name[:80]!r} has no header Strongroom knows")
        return False
    prefix = f"{name} " if name else ""
    for row in rows:
        reader(cols, row, report, prefix + row.where)
    return True


def _credential(cols: Columns, row: CsvRow, report: ImportReport, where: str) -> None:
    c = row.cells
    url = cols.get(c, "url")
    draft = Draft("login", cols.get(c, "title") or host_of(url), notes=cols.get(c, "note"))
    draft.set("username", cols.get(c, "username"))
    draft.set("password", cols.get(c, "password"))
    draft.set("url", url)
    draft.add_extra("username 2", cols.get(c, "username2"))
    draft.add_extra("username 3", cols.get(c, "username3"))
    draft.totp = cols.get(c, "otpUrl") or cols.get(c, "otpSecret")
    draft.tags.append(cols.get(c, "category"))
    known = {"url", "title", "note", "username", "username2", "username3", "password"}
    _others(draft, cols, c, known | {"otpUrl", "otpSecret", "category"})
    build(draft, report, where)


def _secure_note(cols: Columns, row: CsvRow, report: ImportReport, where: str) -> None:
    c = row.cells
    draft = Draft("note", cols.get(c, "title"), notes=cols.get(c, "note"))
    draft.tags.append(cols.get(c, "category"))
    build(draft, report, where)


def _payment(cols: Columns, row: CsvRow, report: ImportReport, where: str) -> None:
    c = row.cells
    kind = cols.get(c, "type").strip().lower()
    title = cols.get(c, "name") or cols.get(c, "account_name")
    if kind == "bank":
        draft = Draft("bank-account", title or cols.get(c, "issuing_bank"))
        draft.set("bank", cols.get(c, "issuing_bank"))
        draft.set("holder", cols.get(c, "account_holder") or cols.get(c, "account_name"))
        draft.set("number", cols.get(c, "account_number"))
        draft.set("routing", cols.get(c, "routing_number"))
        known = {"issuing_bank", "account_holder", "account_name", "account_number"}
    else:
        draft = Draft("credit-card", title or "Payment card")
        draft.set("cardholder", cols.get(c, "account_name"))
        draft.set("number", cols.get(c, "cc_number"))
        draft.set("cvv", cols.get(c, "code"))
        draft.set("issuer", cols.get(c, "issuing_bank"))
        month, year = (
            cols.get(c, "expiration_month").strip(),
            cols.get(c, "expiration_year").strip(),
        )
        draft.set("expiry", f"{month.zfill(2)}/{year}" if month and year else month or year)
        known = {"account_name", "cc_number", "code", "issuing_bank"}
        known |= {"expiration_month", "expiration_year"}
    draft.notes = cols.get(c, "note")
    _others(draft, cols, c, known | {"type", "name", "note", "routing_number"})
    build(draft, report, where)


_ID_TYPES = {
    "passport": "passport",
    "license": "drivers-licence",
    "driver_license": "drivers-licence",
}


def _id(cols: Columns, row: CsvRow, report: ImportReport, where: str) -> None:
    c = row.cells
    kind = cols.get(c, "type").strip().lower()
    type_key = _ID_TYPES.get(kind, "custom")
    label = {"card": "ID card", "social_security": "Social security number"}.get(kind, kind)
    draft = Draft(type_key, cols.get(c, "name") or label.replace("_", " ").capitalize())
    draft.set("full-name", cols.get(c, "name"))
    if type_key == "custom":
        draft.add_extra("number", cols.get(c, "number"), FieldKind.SECRET)
        draft.add_extra("type", label)
    else:
        draft.set("number", cols.get(c, "number"))
    draft.set("issued", cols.get(c, "issue_date"))
    draft.set("expires", cols.get(c, "expiration_date"))
    place = ", ".join(p for p in (cols.get(c, "state"), cols.get(c, "place_of_issue")) if p.strip())
    draft.set("region" if type_key == "drivers-licence" else "country", place)
    known = {"type", "name", "number", "issue_date", "expiration_date", "state", "place_of_issue"}
    _others(draft, cols, c, known)
    build(draft, report, where)


def _personal(cols: Columns, row: CsvRow, report: ImportReport, where: str) -> None:
    c = row.cells
    kind = cols.get(c, "type").strip()
    title = cols.get(c, "item_name") or cols.get(c, "title") or kind.capitalize() or "Personal info"
    draft = Draft("identity", title)
    draft.set(
        "first-name",
        " ".join(p for p in (cols.get(c, "first_name"), cols.get(c, "middle_name")) if p.strip()),
    )
    draft.set("last-name", cols.get(c, "last_name"))
    draft.set("email", cols.get(c, "email"))
    draft.set("phone", cols.get(c, "phone_number"))
    draft.set("birthday", cols.get(c, "date_of_birth"))
    parts = ("address", "address_building", "address_apartment", "address_floor", "zip", "city")
    draft.set(
        "address",
        "\n".join(p for k in (*parts, "state", "country") if (p := cols.get(c, k)).strip()),
    )
    known = {"type", "item_name", "title", "first_name", "middle_name", "last_name", "email"}
    known |= {"phone_number", "date_of_birth", *parts, "state", "country"}
    _others(draft, cols, c, known)
    build(draft, report, where)


def _others(draft: Draft, cols: Columns, cells: list[str], known: set[str]) -> None:
    for name, value in cols.others(cells, known):
        draft.add_extra(name.replace("_", " "), value)


# -- the older JSON export -------------------------------------------------------------------
#: Category → (template, {json key → our field}); other keys become extra fields.
_JSON: dict[str, tuple[str, dict[str, str]]] = {
    "AUTHENTIFIANT": (
        "login",
        {"login": "username", "password": "password", "domain": "url"},
    ),
    "SECURENOTE": ("note", {}),
    "PAYMENTMEANS_CREDITCARD": (
        "credit-card",
        {
            "ownerName": "cardholder",
            "cardNumber": "number",
            "securityCode": "cvv",
            "bank": "issuer",
        },
    ),
    "BANKSTATEMENT": (
        "bank-account",
        {
            "BankAccountBank": "bank",
            "BankAccountOwner": "holder",
            "BankAccountIBAN": "iban",
            "BankAccountBIC": "swift",
        },
    ),
    "EMAIL": ("identity", {"email": "email"}),
    "PHONE": ("identity", {"number": "phone"}),
    "IDENTITY": (
        "identity",
        {"firstName": "first-name", "lastName": "last-name", "birthDate": "birthday"},
    ),
    "PASSPORT": (
        "passport",
        {
            "number": "number",
            "fullname": "full-name",
            "deliveryDate": "issued",
            "expireDate": "expires",
        },
    ),
    "DRIVERLICENCE": (
        "drivers-licence",
        {"number": "number", "fullname": "full-name", "expireDate": "expires"},
    ),
}
_TITLE_KEYS = ("title", "name", "bankAccountName", "cardName", "email", "number", "fullname")
_NOTE_KEYS = ("note", "content")


def read_json(stream: IO[bytes]) -> ImportReport:
    doc = load_json(stream, WHAT_JSON)
    if (
        not isinstance(doc, dict)
        or not doc
        or not all(isinstance(v, list) and k.isupper() for k, v in doc.items())
    ):
        raise FormatError(
            f"this is not a {WHAT_JSON}: it should hold categories (AUTHENTIFIANT, SECURENOTE, …) "
            "as lists"
        )
    report = ImportReport("dashlane-json")
    for category, items in doc.items():
        type_key, mapping = _JSON.get(category, ("custom", {}))
        for i, item in enumerate(items, 1):
            where = f"{category} {i}"
            if not isinstance(item, dict):
                report.skip(where, "not a JSON object")
                continue
            build(_json_item(item, category, type_key, mapping), report, where)
    return report


def _json_item(
    item: dict[str, Any], category: str, type_key: str, mapping: dict[str, str]
) -> Draft:
    title = next((text(item[k]) for k in _TITLE_KEYS if text(item.get(k)).strip()), "")
    if not title and type_key == "login":
        title = host_of(text(item.get("domain")))
    draft = Draft(type_key, title or category.capitalize())
    draft.notes = next((text(item[k]) for k in _NOTE_KEYS if text(item.get(k)).strip()), "")
    for key, slot in mapping.items():
        draft.set(slot, text(item.get(key)))
    for key, value in item.items():
        if key in _NOTE_KEYS or (key in _TITLE_KEYS and text(value) == title):
            continue
        if key in mapping and draft.values.get(mapping[key]) == text(value):
            continue
        if key == "email" and type_key == "login" and "username" not in draft.values:
            draft.set("username", text(value))
        else:
            draft.add_extra(_words(key), text(value))
    if type_key == "credit-card":
        month, year = text(item.get("expireMonth")), text(item.get("expireYear"))
        if month.strip() and year.strip():
            draft.set("expiry", f"{month.strip().zfill(2)}/{year.strip()}")
            draft.extra = [f for f in draft.extra if f.name not in ("expire month", "expire year")]
    return draft


def _words(name: str) -> str:
    out = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    return out.replace("_", " ") or name
