"""1Password 1PUX export: a zip whose `export.data` is JSON — accounts → vaults → items, each
with categoryUuid ("001" login, "002" card, …), overview {title, url, urls, tags}, details
{loginFields [{designation, value}], notesPlain, sections [{title, fields [{id, title, value:
{string | concealed | totp | email | phone | url | date | monthYear | address | …}}]}],
passwordHistory [{value, time}]}, createdAt/updatedAt (Unix seconds), favIndex, state.

The zip is read member by member with a size cap (a zip bomb stops at 256 MiB of output);
attachments (a Document item's file, a section's file field: `files/<documentId>__<fileName>` in
the zip) come along as the record's files, read after the items and only those an item names,
together at most 256 MiB (one past that, or missing from the zip, is named as not imported);
trashed items are named in the report as not imported (`state: "deleted"`, or `trashed: true` in older exports).
Vault names become tags. A field without a title is named by its kind, not its random id; two
fields of one name (an email item's POP and SMTP "port") are told apart by their section.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import IO, Any

from ..errors import FormatError
from ..records import Field, HistoryEntry
from ..templates import FieldKind, template
from .common import Draft, ImportReport, build, load_json, text
from .zipped import members, some_members

WHAT = "1Password 1PUX export"
CATEGORIES = {
    "001": "login",
    "002": "credit-card",
    "003": "note",
    "004": "identity",
    "005": "password",
    "100": "software-licence",
    "101": "bank-account",
    "103": "drivers-licence",
    "105": "membership",
    "106": "passport",
    "109": "wifi",
    "111": "email-account",
}
#: 1Password section field ids → our template field names (looked up in the item's template).
FIELD_IDS = {
    "cardholder": "cardholder",
    "ccnum": "number",
    "cvv": "cvv",
    "expiry": "expiry",
    "pin": "pin",
    "bank": "issuer",
    "bankName": "bank",
    "owner": "holder",
    "accountNo": "number",
    "routingNo": "routing",
    "swift": "swift",
    "iban": "iban",
    "telephonePin": "pin",
    "firstname": "first-name",
    "lastname": "last-name",
    "email": "email",
    "defphone": "phone",
    "address": "address",
    "birthdate": "birthday",
    "reg_code": "licence-key",
    "product_version": "version",
    "reg_email": "email",
    "order_date": "purchased",
    "network_name": "ssid",
    "wireless_password": "password",
    "wireless_security": "security",
    "pop_username": "username",
    "pop_server": "imap",
    "smtp_server": "smtp",
    "pop_password": "password",
    "fullname": "full-name",
    "number": "number",
    "issuing_country": "country",
    "issue_date": "issued",
    "expiry_date": "expires",
    "state": "region",
    "org_name": "organisation",
    "membership_no": "member-id",
}


def _value(v: Any) -> tuple[str, FieldKind]:
    """A section field's value as text and the kind it suggests."""
    if not isinstance(v, dict) or not v:
        return "", FieldKind.TEXT
    key, raw = next(iter(v.items()))
    if key == "concealed":
        return text(raw), FieldKind.SECRET
    if key == "totp":
        return text(raw), FieldKind.TOTP
    if key == "email" and isinstance(raw, dict):
        return text(raw.get("email_address")), FieldKind.EMAIL
    if key == "address" and isinstance(raw, dict):
        parts = [text(raw.get(k)) for k in ("street", "city", "state", "zip", "country")]
        return "\n".join(p for p in parts if p.strip()), FieldKind.NOTE
    if key == "monthYear" and isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return f"{raw % 100:02d}/{raw // 100}", FieldKind.DATE
    if key == "date" and isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < 10**11:
        from datetime import UTC, datetime

        return datetime.fromtimestamp(raw, UTC).strftime("%Y-%m-%d"), FieldKind.DATE
    if key == "sshKey" and isinstance(raw, dict):
        return text(raw.get("privateKey")), FieldKind.SECRET
    if key == "file":
        return "", FieldKind.TEXT
    if key == "url":
        return text(raw), FieldKind.URL
    if key == "phone":
        return text(raw), FieldKind.PHONE
    return text(raw), FieldKind.TEXT


def _export_data(stream: IO[bytes]) -> bytes:
    found, _ = members(stream, WHAT, lambda name: name == "export.data")
    if "export.data" not in found:
        raise FormatError(f"this is not a {WHAT}: the zip has no export.data")
    return found["export.data"]


def read(stream: IO[bytes]) -> ImportReport:
    doc = load_json(io.BytesIO(_export_data(stream)), WHAT)
    if not isinstance(doc, dict) or not isinstance(doc.get("accounts"), list):
        raise FormatError(f'this is not a {WHAT}: export.data has no "accounts" list')
    report = ImportReport("1password-1pux")
    drafts: list[tuple[Draft, str, list[tuple[str, str, str]]]] = []
    n = 0
    for account in doc["accounts"]:
        vaults = account.get("vaults") if isinstance(account, dict) else None
        for vault in vaults if isinstance(vaults, list) else ():
            if not isinstance(vault, dict):
                continue
            attrs = vault.get("attrs")
            vault_name = text(attrs.get("name")) if isinstance(attrs, dict) else ""
            items = vault.get("items")
            for item in items if isinstance(items, list) else ():
                n += 1
                where = f"item {n}"
                if not isinstance(item, dict):
                    report.skip(where, "not a JSON object")
                    continue
                wants: list[tuple[str, str, str]] = []
                try:
                    draft = _item(item, vault_name, report, where, wants)
                except (TypeError, AttributeError, ValueError):
                    report.skip(where, "malformed item (a field has the wrong JSON type)")
                    continue
                if draft is not None:
                    drafts.append((draft, where, wants))
    del doc
    files = some_members(stream, WHAT, {path for _, _, w in drafts for _, path, _ in w})
    for draft, where, wants in drafts:
        for name, path, label in wants:
            got = files.get(path)
            if isinstance(got, bytes):
                draft.files.append((name, got))
            else:
                _lose_file(report, where, label, name, got or "its bytes are not in the export")
        build(draft, report, where)
    return report


_RANDOM_ID = re.compile(r"^[a-z0-9]{26}$")
_KIND_NAMES = {
    FieldKind.SECRET: "secret",
    FieldKind.URL: "url",
    FieldKind.EMAIL: "email",
    FieldKind.PHONE: "phone",
    FieldKind.DATE: "date",
    FieldKind.TOTP: "one-time password",
}


def _field_name(f: dict[str, Any], kind: FieldKind) -> str:
    """A section field's title; without one, its id unless that is a random 26-character id."""
    title = text(f.get("title")).strip()
    if title:
        return title
    fid = text(f.get("id")).strip()
    if fid and not _RANDOM_ID.match(fid):
        return fid
    return _KIND_NAMES.get(kind, "field")


def _unique(
    name: str, section: str, fid: str, used: set[str], spec: Callable[[str], object]
) -> str:
    """A field name not yet used in the record: prefixed by its section (or its id's prefix,
    'smtp_port' → 'SMTP'), else numbered."""
    if name.casefold() in used or spec(name) is not None:
        prefix = section or (fid.partition("_")[0].upper() if "_" in fid else "")
        if prefix and not name.casefold().startswith(prefix.casefold()):
            name = f"{prefix} {name}"
    base, n = name, 2
    while name.casefold() in used or spec(name) is not None:
        name, n = f"{base} {n}", n + 1
    used.add(name.casefold())
    return name


def _item(
    item: dict[str, Any],
    vault_name: str,
    report: ImportReport,
    where: str,
    wants: list[tuple[str, str, str]],
) -> Draft | None:
    """The item as a draft; `wants` gets (file name, zip member, label) for each file it has."""
    state = text(item.get("state")) or "active"
    overview = item.get("overview") or {}
    title = text(overview.get("title")) if isinstance(overview, dict) else ""
    label = f" ({title[:60]!r})" if title.strip() else ""
    if item.get("trashed") is True or state == "deleted":
        report.lose(
            where, "trashed item", f"in 1Password's trash{label}; not imported", skipped=True
        )
        return None
    if state not in ("active", "archived"):
        report.skip(where, f"a {state} item (only active and archived items are imported)")
        return None
    details = item.get("details") or {}
    if not isinstance(overview, dict) or not isinstance(details, dict):
        raise TypeError("overview/details")
    category = text(item.get("categoryUuid"))
    type_key = CATEGORIES.get(category, "custom")
    tpl = template(type_key)
    created, updated = item.get("createdAt"), item.get("updatedAt")
    draft = Draft(
        type_key,
        text(overview.get("title")),
        notes=text(details.get("notesPlain")),
        favorite=isinstance(item.get("favIndex"), int) and item["favIndex"] > 0,
        created=float(created) if isinstance(created, int | float) and 0 < created < 1e11 else None,
        modified=float(updated)
        if isinstance(updated, int | float) and 0 < updated < 1e11
        else None,
    )
    draft.tags.append(vault_name)
    draft.tags += [text(t) for t in overview.get("tags") or ()]
    if state == "archived":
        draft.tags.append("1Password archive")
    urls = [text(u.get("url")) for u in overview.get("urls") or () if isinstance(u, dict)]
    urls = [u for u in urls if u.strip()] or [text(overview.get("url"))]
    if tpl.spec("url") is not None and urls[0].strip():
        draft.set("url", urls[0])
        urls = urls[1:]
    for i, u in enumerate(urls, 2):
        draft.add_extra(f"url {i}" if tpl.spec("url") else "url", u, FieldKind.URL)
    if text(details.get("password")):
        draft.set("password", text(details["password"]))
    for lf in details.get("loginFields") or ():
        if not isinstance(lf, dict):
            continue
        designation = text(lf.get("designation"))
        value = lf.get("value")
        value = (
            text(value.get("email_address") or value.get("string"))
            if isinstance(value, dict)
            else text(value)
        )
        if designation in ("username", "password") and designation not in draft.values:
            draft.set(designation, value)
        elif value.strip() and lf.get("fieldType") not in (
            "C",
            "B",
            "I",
        ):  # checkboxes/buttons: form noise
            draft.add_extra(
                text(lf.get("name")) or "field",
                value,
                FieldKind.SECRET if lf.get("fieldType") == "P" else FieldKind.TEXT,
            )
    document = details.get("documentAttributes")
    if isinstance(document, dict):
        _want_file(document, label, wants)
    used = {f.name.casefold() for f in draft.extra}
    for section in details.get("sections") or ():
        if not isinstance(section, dict):
            continue
        section_title = text(section.get("title")).strip()
        for f in section.get("fields") or ():
            if not isinstance(f, dict):
                continue
            raw = f.get("value")
            if isinstance(raw, dict) and isinstance(raw.get("file"), dict):
                _want_file(raw["file"], label, wants)
                continue
            value, kind = _value(raw)
            if not value.strip():
                continue
            fid = text(f.get("id"))
            ours = FIELD_IDS.get(fid)
            if kind is FieldKind.TOTP and not draft.totp:
                draft.totp = value
            elif ours and tpl.spec(ours) is not None and ours not in draft.values:
                draft.set(ours, value)
            else:
                name = _unique(_field_name(f, kind), section_title, fid, used, tpl.spec)
                draft.add_extra(name, value, kind)
            if isinstance(raw, dict) and isinstance(raw.get("sshKey"), dict):
                meta = raw["sshKey"].get("metadata")
                meta = meta if isinstance(meta, dict) else {}
                draft.add_extra("public key", text(meta.get("publicKey")))
                draft.add_extra("fingerprint", text(meta.get("fingerprint")))
                draft.add_extra("key type", text(meta.get("keyType")))
    for h in details.get("passwordHistory") or ():
        if isinstance(h, dict) and text(h.get("value")) and isinstance(h.get("time"), int):
            draft.history.append(
                HistoryEntry(
                    float(h["time"]), (Field("password", FieldKind.SECRET, text(h["value"])),)
                )
            )
    return draft


def _want_file(attrs: dict[str, Any], label: str, wants: list[tuple[str, str, str]]) -> None:
    name, doc_id = text(attrs.get("fileName")), text(attrs.get("documentId"))
    wants.append((name, f"files/{doc_id}__{name}" if doc_id else "", label))


def _lose_file(report: ImportReport, where: str, label: str, name: str, why: str) -> None:
    report.lose(
        where,
        "attachment",
        f"file {name[:60]!r}{label} is not imported ({why}); the rest of the item is",
    )
