"""NordPass CSV export: name, url, username, password, note, cardholdername, cardnumber, cvc,
expirydate, zipcode, folder, full_name, phone_number, email, address1, address2, city,
country, state; newer exports add type (password | note | credit_card | identity | folder),
additional_urls and custom_fields. Folders are rows of their own (a name and nothing else, or
type `folder`): they are not entries, and the entries in them carry the folder as a tag."""

from __future__ import annotations

import json
from typing import IO

from ..templates import FieldKind
from .common import (
    Columns,
    CsvRow,
    Draft,
    ImportReport,
    build,
    header_rows,
    host_of,
    split_tags,
    text,
)

WHAT = "NordPass CSV export"
KNOWN = {
    "name",
    "url",
    "username",
    "password",
    "note",
    "cardholdername",
    "cardnumber",
    "cvc",
    "expirydate",
    "zipcode",
    "folder",
    "full_name",
    "phone_number",
    "email",
    "address1",
    "address2",
    "city",
    "country",
    "state",
    "type",
    "additional_urls",
    "custom_fields",
}
TYPES = {
    "password": "login",
    "login": "login",
    "note": "note",
    "secure_note": "note",
    "credit_card": "credit-card",
    "identity": "identity",
    "personal_info": "identity",
}
CARD = ("cardholdername", "cardnumber", "cvc", "expirydate")
PERSON = ("full_name", "phone_number", "email", "address1", "address2", "city", "state")


def read(stream: IO[bytes]) -> ImportReport:
    cols, rows = header_rows(stream, WHAT, ("name", "url", "username", "password"), "nordpass-csv")
    report = ImportReport("nordpass-csv")
    body = list(rows)
    folders = {cols.get(r.cells, "folder").strip() for r in body} - {""}
    for row in body:
        c = row.cells
        kind = cols.get(c, "type").strip().lower()
        filled = {n for n in cols.names if n.lower() != "name" and cols.get(c, n).strip()}
        if kind == "folder" or (not kind and not filled and cols.get(c, "name").strip() in folders):
            report.skip(row.where, "a folder, not an entry (its entries carry it as a tag)")
            continue
        _entry(cols, row, kind, report)
    return report


def _entry(cols: Columns, row: CsvRow, kind: str, report: ImportReport) -> None:
    c = row.cells

    def get(name: str) -> str:
        return cols.get(c, name)

    if kind in TYPES:
        type_key = TYPES[kind]
    elif kind:
        type_key = "custom"
    elif any(get(n).strip() for n in CARD):
        type_key = "credit-card"
    elif any(get(n).strip() for n in PERSON) and not (get("username") or get("password")):
        type_key = "identity"
    else:
        type_key = "login"
    url = get("url")
    draft = Draft(type_key, get("name") or host_of(url), notes=get("note"))
    if type_key == "custom" and kind:
        draft.tags.append(kind)
    draft.tags.append(get("folder"))
    draft.set("url", url)
    for n, extra_url in enumerate(split_tags(get("additional_urls"), ",;"), 2):
        draft.add_extra(f"url {n}", extra_url, FieldKind.URL)
    draft.set("username", get("username"))
    draft.set("password", get("password"))
    draft.set("cardholder", get("cardholdername"))
    draft.set("number", get("cardnumber"))
    draft.set("cvv", get("cvc"))
    draft.set("expiry", get("expirydate"))
    first, _, last = get("full_name").strip().rpartition(" ")
    draft.set("first-name", first or last)
    draft.set("last-name", last if first else "")
    draft.set("phone", get("phone_number"))
    draft.set("email", get("email"))
    zipcode = "" if type_key == "credit-card" else get("zipcode")
    address = [get("address1"), get("address2"), " ".join([zipcode, get("city")]).strip()]
    address += [get("state"), get("country")]
    draft.set("address", "\n".join(p for p in address if p.strip()))
    if draft.type == "credit-card" and get("zipcode").strip():
        draft.add_extra("zip code", get("zipcode"))
    _custom(draft, get("custom_fields"))
    for name, value in cols.others(c, KNOWN):
        draft.add_extra(name, value)
    build(draft, report, row.where)


def _custom(draft: Draft, raw: str) -> None:
    """custom_fields: a JSON list of {label, type, value} (kept as text when it is not)."""
    if not raw.strip():
        return
    try:
        fields = json.loads(raw)
    except ValueError:
        draft.add_extra("custom fields", raw)
        return
    for f in fields if isinstance(fields, list) else ():
        if isinstance(f, dict):
            hidden = text(f.get("type")).lower() in ("hidden", "password", "secret")
            draft.add_extra(
                text(f.get("label")) or "field",
                text(f.get("value")),
                FieldKind.SECRET if hidden else FieldKind.TEXT,
            )
