"""1Password Interchange Format (1PIF, 1Password 4–7): one JSON object per item, separated by
`***5642bee8-a5ff-11dc-8314-0800200c9a66***` lines.

Each item: {uuid, typeName ("webforms.WebForm" login, "securenotes.SecureNote", "wallet.
financial.CreditCard", "identities.Identity", "passwords.Password", …, "system.folder.Regular"
a folder), title, location, folderUuid, trashed, faveIndex, createdAt, updatedAt, openContents:
{tags}, secureContents: {fields: [{designation, name, value, type}], URLs: [{url}], notesPlain,
password, sections: [{title, fields: [{k, n, t, v}]}], passwordHistory: [{value, time}]}}.

Folders (nested through folderUuid: "Emails/WS") and tags become tags. Trashed items and
attachments (document items, `documentAttributes`) are not imported and each is named; saved
searches and tombstones are 1Password's own bookkeeping and are skipped.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import IO, Any

from ..errors import FormatError
from ..records import Field, HistoryEntry
from ..templates import FieldKind, template
from .common import Draft, ImportReport, build, text, text_stream

WHAT = "1Password 1PIF export"
SEPARATOR = re.compile(r"^\*\*\*[0-9a-f-]{36}\*\*\*\s*$")
_TYPES = {
    "webforms.WebForm": "login",
    "securenotes.SecureNote": "note",
    "wallet.financial.CreditCard": "credit-card",
    "identities.Identity": "identity",
    "passwords.Password": "password",
    "wallet.computer.License": "software-licence",
    "wallet.computer.Router": "wifi",
    "wallet.financial.BankAccountUS": "bank-account",
    "wallet.government.Passport": "passport",
    "wallet.government.DriversLicense": "drivers-licence",
    "wallet.membership.Membership": "membership",
    "wallet.onlineservices.Email.v2": "email-account",
    "wallet.computer.Database": "custom",
    "wallet.computer.UnixServer": "custom",
    "wallet.government.SsnUS": "custom",
    "wallet.membership.RewardProgram": "membership",
    "wallet.onlineservices.GenericAccount": "login",
}
_BOOKKEEPING = ("system.folder.SavedSearch", "system.Tombstone")
#: Section field names (n) → our template field names.
_SLOTS = {
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
    "firstname": "first-name",
    "lastname": "last-name",
    "email": "email",
    "defphone": "phone",
    "address": "address",
    "birthdate": "birthday",
    "reg_code": "licence-key",
    "product_version": "version",
    "reg_email": "email",
    "network_name": "ssid",
    "wireless_password": "password",
    "pop_username": "username",
    "pop_server": "imap",
    "smtp_server": "smtp",
    "pop_password": "password",
    "fullname": "full-name",
    "number": "number",
    "issuing_country": "country",
    "issue_date": "issued",
    "expiry_date": "expires",
    "org_name": "organisation",
    "membership_no": "member-id",
}


def _objects(stream: IO[bytes]) -> list[tuple[int, Any]]:
    """(first line number, parsed object) of every item; FormatError if one is not JSON."""
    out: list[tuple[int, Any]] = []
    lines: list[str] = []
    start = 1

    def flush() -> None:
        body = "".join(lines).strip()
        if body:
            try:
                out.append((start, json.loads(body)))
            except json.JSONDecodeError as exc:
                raise FormatError(
                    f"this is not a valid {WHAT}: the item at line {start} is not JSON "
                    f"({exc.msg}); is the file complete?"
                ) from None
            except RecursionError:
                raise FormatError(f"this is not a valid {WHAT}: nested too deeply") from None
        lines.clear()

    number = 0
    for number, line in enumerate(text_stream(stream, WHAT), 1):
        if SEPARATOR.match(line):
            flush()
            start = number + 1
        else:
            if not lines and not line.strip():
                start = number + 1
            lines.append(line)
    flush()
    if not out:
        raise FormatError(f"this is not a {WHAT}: the file is empty")
    if not all(isinstance(o, dict) and "typeName" in o for _, o in out[:1]):
        raise FormatError(f'this is not a {WHAT}: its first item has no "typeName"')
    return out


def read(stream: IO[bytes]) -> ImportReport:
    objects = _objects(stream)
    folders = {
        text(o.get("uuid")): (text(o.get("title")), text(o.get("folderUuid")))
        for _, o in objects
        if isinstance(o, dict) and text(o.get("typeName")).startswith("system.folder.Regular")
    }
    report = ImportReport("1password-1pif")
    for line, obj in objects:
        where = f"line {line}"
        if not isinstance(obj, dict):
            report.skip(where, "not a JSON object")
            continue
        kind = text(obj.get("typeName"))
        if kind.startswith("system.folder.") or kind in _BOOKKEEPING:
            continue
        try:
            draft = _item(obj, kind, folders, report, where)
        except (TypeError, AttributeError, ValueError):
            report.skip(where, "malformed item (a field has the wrong JSON type)")
            continue
        if draft is not None:
            build(draft, report, where)
    return report


def _folder(uuid: str, folders: dict[str, tuple[str, str]]) -> str:
    parts: list[str] = []
    seen: set[str] = set()
    while uuid in folders and uuid not in seen:
        seen.add(uuid)
        title, uuid = folders[uuid]
        parts.append(title)
    return "/".join(reversed(parts))


def _obj(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError("object expected")
    return value


def _item(
    obj: dict[str, Any],
    kind: str,
    folders: dict[str, tuple[str, str]],
    report: ImportReport,
    where: str,
) -> Draft | None:
    title = text(obj.get("title"))
    label = f" ({title[:60]!r})" if title.strip() else ""
    if obj.get("trashed") is True:
        report.lose(
            where, "trashed item", f"in 1Password's trash{label}; not imported", skipped=True
        )
        return None
    secure = _obj(obj.get("secureContents"))
    opened = _obj(obj.get("openContents"))
    if kind == "system.Document" or isinstance(secure.get("documentAttributes"), dict):
        doc = _obj(secure.get("documentAttributes"))
        report.lose(
            where,
            "attachment",
            f"document {text(doc.get('fileName'))[:60]!r}{label} is not imported (attachments "
            "are not supported yet)",
            skipped=kind == "system.Document",
        )
        if kind == "system.Document":
            return None
    if kind not in _TYPES:
        report.lose(
            where,
            "item of an unknown type",
            f"unknown 1Password item type {kind[:40]!r}{label}; not imported",
            skipped=True,
        )
        return None
    type_key = _TYPES[kind]
    tpl = template(type_key)
    created, updated = obj.get("createdAt"), obj.get("updatedAt")
    fave = obj.get("faveIndex")
    draft = Draft(
        type_key,
        title,
        notes=text(secure.get("notesPlain")),
        favorite=isinstance(fave, int) and not isinstance(fave, bool) and fave > 0,
        created=float(created) if isinstance(created, int) and 0 < created < 10**11 else None,
        modified=float(updated) if isinstance(updated, int) and 0 < updated < 10**11 else None,
    )
    draft.tags.append(_folder(text(obj.get("folderUuid")), folders))
    draft.tags += [text(t) for t in opened.get("tags") or secure.get("tags") or ()]
    urls = [text(u.get("url")) for u in secure.get("URLs") or () if isinstance(u, dict)]
    urls = [u for u in urls if u.strip()] or [text(obj.get("location"))]
    if tpl.spec("url") is not None and urls[0].strip():
        draft.set("url", urls[0])
        urls = urls[1:]
    for i, u in enumerate(urls, 2):
        draft.add_extra(f"url {i}", u, FieldKind.URL)
    draft.set("password", text(secure.get("password")))
    for f in secure.get("fields") or ():
        if not isinstance(f, dict):
            continue
        designation, value = text(f.get("designation")), text(f.get("value"))
        if designation in ("username", "password") and designation not in draft.values:
            draft.set(designation, value)
        elif value.strip() and text(f.get("type")) not in ("C", "B", "I", "R"):
            draft.add_extra(
                text(f.get("name")) or "field",
                value,
                FieldKind.SECRET if f.get("type") == "P" else FieldKind.TEXT,
            )
    for section in secure.get("sections") or ():
        if isinstance(section, dict):
            _section(draft, tpl.spec, section)
    for h in secure.get("passwordHistory") or ():
        if isinstance(h, dict) and text(h.get("value")) and isinstance(h.get("time"), int):
            draft.history.append(
                HistoryEntry(
                    float(h["time"]), (Field("password", FieldKind.SECRET, text(h["value"])),)
                )
            )
    return draft


def _section(draft: Draft, spec: Any, section: dict[str, Any]) -> None:
    heading = text(section.get("title")).strip()
    for f in section.get("fields") or ():
        if not isinstance(f, dict):
            continue
        k, n, raw = text(f.get("k")), text(f.get("n")), f.get("v")
        if k == "address" and isinstance(raw, dict):
            keys = ("street", "city", "state", "zip", "country")
            value = "\n".join(p for key in keys if (p := text(raw.get(key))).strip())
        elif k == "monthYear" and isinstance(raw, int) and not isinstance(raw, bool):
            value = f"{raw % 100:02d}/{raw // 100}"
        elif (
            k == "date" and isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < 10**11
        ):
            value = datetime.fromtimestamp(raw, UTC).strftime("%Y-%m-%d")
        else:
            value = text(raw)
        if not value.strip():
            continue
        if n.startswith("TOTP_") or value.startswith("otpauth://"):
            if not draft.totp:
                draft.totp = value
                continue
            draft.add_extra(text(f.get("t")) or "one-time password", value, FieldKind.TOTP)
            continue
        ours = _SLOTS.get(n)
        if ours and spec(ours) is not None and ours not in draft.values:
            draft.set(ours, value)
            continue
        name = text(f.get("t")).strip() or heading or n or "field"
        kind = {
            "concealed": FieldKind.SECRET,
            "URL": FieldKind.URL,
            "email": FieldKind.EMAIL,
            "phone": FieldKind.PHONE,
            "date": FieldKind.DATE,
            "address": FieldKind.NOTE,
        }.get(k, FieldKind.TEXT)
        draft.add_extra(name, value, kind)
