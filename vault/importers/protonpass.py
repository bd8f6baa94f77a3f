"""Proton Pass export, unencrypted: a zip holding `Proton Pass/data.json` (or that JSON alone).

Shape: {"version", "userId", "encrypted": false, "vaults": {id: {"name", "items": [{"data":
{"metadata": {name, note}, "type": login | note | creditCard | identity | alias | sshKey |
wifi | custom, "content": {…}, "extraFields": [{fieldName, type: text | hidden | totp,
data: {content | totpUri}}]}, "state": 1 active | 2 trashed, "aliasEmail", "pinned",
"createTime", "modifyTime"}]}}}.

Vault names become tags, pinned items favourites. Trashed items, passkeys and attached files
(the zip's `files/` and an item's `files` list) are not imported and each is named. A
PGP-encrypted export (`data.pgp`, or `"encrypted": true`) is refused saying which export to make.
"""

from __future__ import annotations

import io
from typing import IO, Any

from ..errors import FormatError
from ..templates import FieldKind
from .common import Draft, ImportReport, build, load_json, text
from .zipped import is_zip, members

WHAT = "Proton Pass export"
_TYPES = {
    "login": "login",
    "note": "note",
    "creditCard": "credit-card",
    "identity": "identity",
    "alias": "login",
    "wifi": "wifi",
    "sshKey": "custom",
    "custom": "custom",
}
#: content keys → our template fields, per Proton Pass type.
_SLOTS: dict[str, dict[str, str]] = {
    "creditCard": {
        "cardholderName": "cardholder",
        "number": "number",
        "verificationNumber": "cvv",
        "expirationDate": "expiry",
        "pin": "pin",
    },
    "identity": {
        "firstName": "first-name",
        "lastName": "last-name",
        "email": "email",
        "phoneNumber": "phone",
        "birthdate": "birthday",
    },
    "wifi": {"ssid": "ssid", "password": "password", "security": "security"},
}
_ADDRESS = ("streetAddress", "floor", "zipOrPostalCode", "city", "county", "stateOrProvince")
_SECRET_KEYS = {"socialSecurityNumber", "privateKey", "password", "verificationNumber", "pin"}
_SKIP = {"passkeys", "urls", "cardType", "itemEmail", "itemUsername", "totpUri"}


def _data_json(stream: IO[bytes]) -> bytes:
    if not is_zip(stream):
        return stream.read()
    found, others = members(stream, WHAT, lambda n: n.endswith("data.json"))
    if not found:
        if any(n.endswith("data.pgp") for n in others):
            raise FormatError(_ENCRYPTED)
        raise FormatError(f"this is not a {WHAT}: the zip has no data.json")
    return next(iter(found.values()))


_ENCRYPTED = (
    "this Proton Pass export is encrypted with PGP, which Strongroom cannot read; export again "
    "from Proton Pass without encryption (Settings → Export, 'Encrypt with PGP' off)"
)


def read(stream: IO[bytes]) -> ImportReport:
    doc = load_json(io.BytesIO(_data_json(stream)), WHAT)
    if isinstance(doc, dict) and doc.get("encrypted") is True:
        raise FormatError(_ENCRYPTED)
    if not isinstance(doc, dict) or not isinstance(doc.get("vaults"), dict):
        raise FormatError(f'this is not a {WHAT}: there is no "vaults" object')
    report = ImportReport("protonpass-json")
    n = 0
    for vault in doc["vaults"].values():
        if not isinstance(vault, dict):
            continue
        vault_name = text(vault.get("name"))
        items = vault.get("items")
        for item in items if isinstance(items, list) else ():
            n += 1
            where = f"item {n}"
            if not isinstance(item, dict):
                report.skip(where, "not a JSON object")
                continue
            try:
                draft = _item(item, vault_name, report, where)
            except (TypeError, AttributeError, ValueError):
                report.skip(where, "malformed item (a field has the wrong JSON type)")
                continue
            if draft is not None:
                build(draft, report, where)
    return report


def _obj(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError("object expected")
    return value


def _item(item: dict[str, Any], vault: str, report: ImportReport, where: str) -> Draft | None:
    data = _obj(item.get("data"))
    meta = _obj(data.get("metadata"))
    content = _obj(data.get("content"))
    title = text(meta.get("name"))
    label = f" ({title[:60]!r})" if title.strip() else ""
    kind = text(data.get("type"))
    if item.get("state") == 2:
        report.lose(
            where, "trashed item", f"in Proton Pass's trash{label}; not imported", skipped=True
        )
        return None
    if kind not in _TYPES:
        report.lose(
            where,
            "item of an unknown type",
            f"unknown Proton Pass item type {kind[:20]!r}{label}; not imported",
            skipped=True,
        )
        return None
    modified = item.get("modifyTime")
    created = item.get("createTime")
    draft = Draft(
        _TYPES[kind],
        title,
        notes=text(meta.get("note")),
        favorite=item.get("pinned") is True,
        created=float(created) if isinstance(created, int) and 0 < created < 10**11 else None,
        modified=float(modified) if isinstance(modified, int) and 0 < modified < 10**11 else None,
    )
    draft.tags.append(vault)
    if kind in ("login", "alias"):
        _login(draft, content, text(item.get("aliasEmail")))
    slots = _SLOTS.get(kind, {})
    for key, value in content.items():
        if key in _SKIP or key in _ADDRESS:
            continue
        if isinstance(value, list):
            if key in ("extraSections", "sections"):
                for section in value:
                    if isinstance(section, dict):
                        _extras(draft, section.get("sectionFields") or [])
            elif key.startswith("extra"):
                _extras(draft, value)
            continue
        v = text(value)
        ours = slots.get(key)
        if ours:
            draft.set(ours, _expiry(v) if ours == "expiry" else v)
        elif kind not in ("login", "alias"):
            draft.add_extra(key, v, FieldKind.SECRET if key in _SECRET_KEYS else FieldKind.TEXT)
    if kind == "identity":
        draft.set("address", "\n".join(p for k in _ADDRESS if (p := text(content.get(k))).strip()))
    _extras(draft, data.get("extraFields") or [])
    for pk in content.get("passkeys") or ():
        rp = text(pk.get("domain") or pk.get("rpId")) if isinstance(pk, dict) else ""
        report.lose(
            where,
            "passkey",
            f"its passkey{' for ' + rp if rp else ''}{label} is not imported (passkeys cannot "
            "be moved between managers yet); the rest of the item is",
        )
    for f in item.get("files") or ():
        name = text(f.get("name") or f.get("fileName")) if isinstance(f, dict) else text(f)
        report.lose(
            where,
            "attachment",
            f"file {name[:60]!r}{label} is not imported (attachments are not supported yet); "
            "the rest of the item is",
        )
    return draft


def _login(draft: Draft, content: dict[str, Any], alias: str) -> None:
    username = text(content.get("itemUsername"))
    email = text(content.get("itemEmail")) or text(content.get("username")) or alias
    if username.strip():
        draft.set("username", username)
        draft.add_extra("email", email, FieldKind.EMAIL)
    else:
        draft.set("username", email)
    draft.set("password", text(content.get("password")))
    urls = [text(u) for u in content.get("urls") or () if text(u).strip()]
    if urls:
        draft.set("url", urls[0])
    for i, u in enumerate(urls[1:], 2):
        draft.add_extra(f"url {i}", u, FieldKind.URL)
    draft.totp = text(content.get("totpUri"))


def _extras(draft: Draft, fields: Any) -> None:
    for f in fields if isinstance(fields, list) else ():
        if not isinstance(f, dict):
            continue
        body = _obj(f.get("data"))
        kind = text(f.get("type"))
        name = text(f.get("fieldName"))
        if kind == "totp":
            value = text(body.get("totpUri"))
            if not draft.totp.strip():
                draft.totp = value
            else:
                draft.add_extra(name or "one-time password", value, FieldKind.TOTP)
            continue
        value = text(body.get("content"))
        draft.add_extra(name, value, FieldKind.SECRET if kind == "hidden" else FieldKind.TEXT)


def _expiry(value: str) -> str:
    """Proton Pass writes card expiry as YYYY-MM; ours reads MM/YYYY."""
    year, sep, month = value.strip().partition("-")
    if sep and year.isdigit() and month.isdigit() and len(year) == 4:
        return f"{month.zfill(2)}/{year}"
    return value
