"""Keeper JSON export: {"shared_folders": [...], "records": [{uid, title, "$type", login,
password, login_url, notes, custom_fields: {name: value}, references: {"$addressRef::1": [uid]},
folders: [{folder} | {shared_folder}]}]}.

Typed records (Keeper 16+) name their custom fields `$kind:label:n` (`$paymentCard::1`,
`$text:cardholderName:1`, `$oneTimeCode::1`) with objects for cards, names, phones, addresses,
key pairs and hosts; older exports use plain names (`TFC:Keeper` holds the TOTP link). Folders
(sub-folders separated by backslashes) become tags. File records and file references are
attachments, which the export does not carry: each is named.
"""

from __future__ import annotations

from typing import IO, Any

from ..errors import FormatError
from ..templates import FieldKind, template
from .common import Draft, ImportReport, build, load_json, text

WHAT = "Keeper JSON export"
_TYPES = {
    "login": "login",
    "general": "login",
    "bankCard": "credit-card",
    "bankAccount": "bank-account",
    "encryptedNotes": "note",
    "address": "identity",
    "contact": "identity",
    "ssnCard": "identity",
    "birthCertificate": "identity",
    "passport": "passport",
    "driverLicense": "drivers-licence",
    "softwareLicense": "software-licence",
    "membership": "membership",
    "wifiCredentials": "wifi",
    "healthInsurance": "insurance",
}
#: (field kind, label) → our template field, when the record's template has it.
_SLOTS = {
    ("paymentCard", "cardNumber"): "number",
    ("paymentCard", "cardExpirationDate"): "expiry",
    ("paymentCard", "cardSecurityCode"): "cvv",
    ("text", "cardholderName"): "cardholder",
    ("pinCode", ""): "pin",
    ("email", ""): "email",
    ("licenseNumber", ""): "licence-key",
    ("accountNumber", ""): "number",
    ("accountNumber", "passportNumber"): "number",
    ("accountNumber", "driverLicenseNumber"): "number",
    ("expirationDate", ""): "expires",
    ("birthDate", ""): "birthday",
    ("text", "ssid"): "ssid",
}
_CONCEALED = {"secret", "pinCode", "oneTimeCode", "securityCode", "password", "cardSecurityCode"}


def read(stream: IO[bytes]) -> ImportReport:
    doc = load_json(stream, WHAT)
    if not isinstance(doc, dict) or not isinstance(doc.get("records"), list):
        raise FormatError(f'this is not a {WHAT}: there is no "records" list')
    records = [r for r in doc["records"] if isinstance(r, dict)]
    by_uid = {text(r.get("uid")): r for r in records if text(r.get("uid"))}
    report = ImportReport("keeper-json")
    for i, rec in enumerate(doc["records"], 1):
        where = f"record {i}"
        if not isinstance(rec, dict):
            report.skip(where, "not a JSON object")
            continue
        try:
            draft = _record(rec, by_uid, report, where)
        except (TypeError, AttributeError, ValueError):
            report.skip(where, "malformed record (a field has the wrong JSON type)")
            continue
        if draft is not None:
            build(draft, report, where)
    return report


def _label(rec: dict[str, Any]) -> str:
    title = text(rec.get("title")).strip()
    return f" ({title[:60]!r})" if title else ""


def _record(
    rec: dict[str, Any], by_uid: dict[str, dict[str, Any]], report: ImportReport, where: str
) -> Draft | None:
    kind = text(rec.get("$type")) or "login"
    label = _label(rec)
    if kind in ("file", "photo"):
        report.lose(
            where,
            "attachment",
            f"a file record{label} (Keeper's export does not carry files); not imported",
            skipped=True,
        )
        return None
    type_key = _TYPES.get(kind, "custom")
    draft = Draft(type_key, text(rec.get("title")), notes=text(rec.get("notes")))
    for f in rec.get("folders") or ():
        if isinstance(f, dict):
            draft.tags.append(text(f.get("folder") or f.get("shared_folder")).replace("\\", "/"))
    draft.set("username", text(rec.get("login")))
    draft.set("password", text(rec.get("password")))
    draft.set("url", text(rec.get("login_url")))
    fields = rec.get("custom_fields") or {}
    if not isinstance(fields, dict):
        raise TypeError("custom_fields")
    for key, value in fields.items():
        _field(draft, str(key), value, report, where, label)
    refs = rec.get("references") or {}
    for key, uids in refs.items() if isinstance(refs, dict) else ():
        for uid in uids if isinstance(uids, list) else ():
            other = by_uid.get(text(uid))
            if other is None:
                continue
            name = _parse(str(key))[0].removesuffix("Ref") or "reference"
            shown = _referenced(other) or text(other.get("title"))
            draft.add_extra(name, shown, FieldKind.NOTE if "\n" in shown else FieldKind.TEXT)
    if type_key == "login" and not (draft.values or draft.extra or draft.totp) and draft.notes:
        draft.type = "note"
    return draft


def _parse(key: str) -> tuple[str, str]:
    """`$paymentCard::1` → ('paymentCard', ''); `$text:cardholderName:1` → ('text',
    'cardholderName'); a plain name → ('', name)."""
    if not key.startswith("$"):
        return "", key
    parts = key[1:].split(":")
    return parts[0], parts[1] if len(parts) > 1 else ""


def _referenced(rec: dict[str, Any]) -> str:
    """The address (or other object) a reference points at, as text."""
    fields = rec.get("custom_fields")
    for key, value in fields.items() if isinstance(fields, dict) else ():
        if isinstance(value, dict) and _parse(str(key))[0] == "address":
            return _address(value)
    return ""


def _address(v: dict[str, Any]) -> str:
    keys = ("street1", "street2", "city", "state", "zip", "country")
    return "\n".join(p for k in keys if (p := text(v.get(k))).strip())


def _phone(v: Any) -> str:
    if not isinstance(v, dict):
        return text(v)
    number, ext = text(v.get("number")), text(v.get("ext"))
    return f"{number} ext. {ext}" if ext.strip() else number


def _field(
    draft: Draft, key: str, value: Any, report: ImportReport, where: str, label: str
) -> None:
    kind, name = _parse(key)
    tpl = template(draft.type)
    if kind == "oneTimeCode" or key.strip() == "TFC:Keeper":
        if not draft.totp:
            draft.totp = text(value)
        else:
            draft.add_extra(name or "one-time password", text(value), FieldKind.TOTP)
        return
    if kind == "fileRef":
        for _ in value if isinstance(value, list) else [value]:
            report.lose(
                where,
                "attachment",
                f"an attached file{label} is not in Keeper's export; the rest of the record is",
            )
        return
    if kind == "note" and draft.type == "note":
        draft.notes = "\n\n".join(p for p in (draft.notes, text(value)) if p.strip())
        return
    if isinstance(value, list):
        for item in value:
            _field(draft, key, item, report, where, label)
        return
    if isinstance(value, dict):
        if kind == "name":
            first, middle, last = (text(value.get(k)) for k in ("first", "middle", "last"))
            if tpl.spec("first-name") and not name:
                draft.set("first-name", " ".join(p for p in (first, middle) if p.strip()))
                draft.set("last-name", last)
            elif tpl.spec("full-name") and not name:
                draft.set("full-name", " ".join(p for p in (first, middle, last) if p.strip()))
            else:
                draft.add_extra(name or "name", " ".join(p for p in (first, middle, last) if p))
        elif kind == "phone":
            _put(draft, tpl.spec("phone") is not None and not name, "phone", name, _phone(value))
        elif kind == "address":
            _put(draft, tpl.spec("address") is not None, "address", name, _address(value))
        else:
            for sub, v in value.items():
                ours = _SLOTS.get((kind, str(sub)))
                secret = sub in _CONCEALED or "private" in str(sub).lower()
                if ours and tpl.spec(ours) is not None and ours not in draft.values:
                    draft.set(ours, text(v))
                else:
                    draft.add_extra(
                        _words(str(sub)), text(v), FieldKind.SECRET if secret else FieldKind.TEXT
                    )
        return
    v = text(value)
    ours = _SLOTS.get((kind, name)) or _SLOTS.get((kind, ""))
    if ours and tpl.spec(ours) is not None and ours not in draft.values:
        draft.set(ours, v)
        return
    if kind == "email" and tpl.spec("email") is not None and "email" not in draft.values:
        draft.set("email", v)
        return
    shown = name or (key if not kind else _words(kind))
    field_kind = {
        "secret": FieldKind.SECRET,
        "pinCode": FieldKind.PIN,
        "url": FieldKind.URL,
        "email": FieldKind.EMAIL,
        "multiline": FieldKind.NOTE,
        "note": FieldKind.NOTE,
    }.get(kind, FieldKind.TEXT)
    if field_kind is FieldKind.TEXT and v.startswith(("http://", "https://")):
        field_kind = FieldKind.URL
    draft.add_extra(shown, v, field_kind)


def _put(draft: Draft, slot: bool, ours: str, name: str, value: str) -> None:
    if slot and ours not in draft.values:
        draft.set(ours, value)
    else:
        draft.add_extra(name or ours, value, FieldKind.NOTE if "\n" in value else FieldKind.TEXT)


def _words(name: str) -> str:
    """`cardSecurityCode` → 'card security code'."""
    out = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    return out or name
