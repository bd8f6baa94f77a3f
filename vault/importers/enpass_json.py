"""Enpass JSON export: {"folders": [{uuid, title, parent_uuid}], "items": [{title, category,
template_type, favorite, trashed, archived, note, folders: [uuid], createdAt, updated_at,
fields: [{label, type, value, sensitive, deleted, history: [{value, updated_at}]}],
attachments: [{name, …}]}]}.

Field types say what a field is (username, email, password, url, totp, phone, ccNumber, …);
`section` fields are headings, `deleted` ones are gone from Enpass too. Folders (with their
parents: "Emails/WS") become tags; archived items get the tag "Enpass archive". Trashed items
and attachments are not imported and each is named.
"""

from __future__ import annotations

from typing import IO, Any

from ..errors import FormatError
from ..records import Field, HistoryEntry
from ..templates import FieldKind, template
from .common import Draft, ImportReport, build, load_json, text, truthy

WHAT = "Enpass JSON export"
_CATEGORIES = {
    "login": "login",
    "password": "password",
    "creditcard": "credit-card",
    "note": "note",
    "identity": "identity",
    "license": "software-licence",
}
_TEMPLATES = {
    "finance.bankaccount": "bank-account",
    "travel.passport": "passport",
    "identity.drivinglicense": "drivers-licence",
    "misc.membership": "membership",
    "computer.wifi": "wifi",
    "computer.emailaccount": "email-account",
    "misc.insurance": "insurance",
}
#: Enpass field type → (our template field, kind).
_SLOTS: dict[str, tuple[str, FieldKind]] = {
    "username": ("username", FieldKind.TEXT),
    "email": ("email", FieldKind.EMAIL),
    "password": ("password", FieldKind.SECRET),
    "url": ("url", FieldKind.URL),
    "phone": ("phone", FieldKind.PHONE),
    "ccName": ("cardholder", FieldKind.TEXT),
    "ccNumber": ("number", FieldKind.NUMBER),
    "ccCvc": ("cvv", FieldKind.PIN),
    "ccPin": ("pin", FieldKind.PIN),
    "ccExpiry": ("expiry", FieldKind.DATE),
    "ccType": ("issuer", FieldKind.TEXT),
    "ccBankname": ("issuer", FieldKind.TEXT),
    "pin": ("pin", FieldKind.PIN),
    "date": ("", FieldKind.DATE),
}


def read(stream: IO[bytes]) -> ImportReport:
    doc = load_json(stream, WHAT)
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise FormatError(f'this is not a {WHAT}: there is no "items" list')
    items = [i for i in doc["items"][:50] if isinstance(i, dict)]
    if items and not any("category" in i or "template_type" in i for i in items):
        other = " (a Bitwarden export? import it as bitwarden-json)" if "encrypted" in doc else ""
        raise FormatError(f"this is not an {WHAT}: its items have no category{other}")
    folders = _folder_paths(doc.get("folders"))
    report = ImportReport("enpass-json")
    for i, item in enumerate(doc["items"], 1):
        where = f"item {i}"
        if not isinstance(item, dict):
            report.skip(where, "not a JSON object")
            continue
        try:
            draft = _item(item, folders, report, where)
        except (TypeError, AttributeError, ValueError):
            report.skip(where, "malformed item (a field has the wrong JSON type)")
            continue
        if draft is not None:
            build(draft, report, where)
    return report


def _folder_paths(listed: Any) -> dict[str, str]:
    """uuid → "Parent/Child" (a parent loop or a missing parent stops the walk)."""
    rows = {
        text(f.get("uuid")): (text(f.get("title")), text(f.get("parent_uuid")))
        for f in (listed if isinstance(listed, list) else ())
        if isinstance(f, dict)
    }
    out: dict[str, str] = {}
    for uuid in rows:
        parts: list[str] = []
        seen: set[str] = set()
        at = uuid
        while at in rows and at not in seen:
            seen.add(at)
            title, at = rows[at]
            parts.append(title)
        out[uuid] = "/".join(reversed(parts))
    return out


def _item(
    item: dict[str, Any], folders: dict[str, str], report: ImportReport, where: str
) -> Draft | None:
    title = text(item.get("title"))
    label = f" ({title[:60]!r})" if title.strip() else ""
    if truthy(item.get("trashed")):
        report.lose(where, "trashed item", f"in Enpass's trash{label}; not imported", skipped=True)
        return None
    kind = _TEMPLATES.get(text(item.get("template_type")).lower()) or _CATEGORIES.get(
        text(item.get("category")).lower(), "custom"
    )
    tpl = template(kind)
    created, updated = item.get("createdAt"), item.get("updated_at")
    draft = Draft(
        kind,
        title,
        notes=text(item.get("note")),
        favorite=truthy(item.get("favorite")),
        created=float(created) if isinstance(created, int) and 0 < created < 10**11 else None,
        modified=float(updated) if isinstance(updated, int) and 0 < updated < 10**11 else None,
    )
    draft.tags += [folders.get(text(u), "") for u in item.get("folders") or ()]
    if truthy(item.get("archived")):
        draft.tags.append("Enpass archive")
    for f in item.get("fields") or ():
        if not isinstance(f, dict) or truthy(f.get("deleted")):
            continue
        _field(draft, tpl.spec, f)
    for a in item.get("attachments") or ():
        name = text(a.get("name")) if isinstance(a, dict) else ""
        report.lose(
            where,
            "attachment",
            f"file {name[:60]!r}{label} is not imported (attachments are not supported yet); "
            "the rest of the item is",
        )
    return draft


def _field(draft: Draft, spec: Any, f: dict[str, Any]) -> None:
    ftype = text(f.get("type"))
    value = text(f.get("value"))
    name = text(f.get("label")) or ftype or "field"
    if ftype == "section" or not value.strip():
        return
    if ftype == "totp":
        if not draft.totp.strip():
            draft.totp = value
        else:
            draft.add_extra(name, value, FieldKind.TOTP)
        return
    ours, kind = _SLOTS.get(ftype, ("", FieldKind.TEXT))
    if truthy(f.get("sensitive")) and not kind.concealed:
        kind = FieldKind.SECRET
    if ours and spec(ours) is not None and ours not in draft.values:
        draft.set(ours, value)
        if ours == "password":
            _history(draft, f)
        return
    if (
        ftype in ("username", "email")
        and spec("username") is not None
        and "username" not in draft.values
    ):
        draft.set("username", value)  # a login with only an e-mail signs in with it
        return
    if ftype == "url" and spec("url") is not None:
        kind = FieldKind.URL
    draft.add_extra(name, value, kind)


def _history(draft: Draft, f: dict[str, Any]) -> None:
    for h in f.get("history") or ():
        if not isinstance(h, dict):
            continue
        value, when = text(h.get("value")), h.get("updated_at")
        if value and isinstance(when, int) and 0 < when < 10**11:
            draft.history.append(
                HistoryEntry(float(when), (Field("password", FieldKind.SECRET, value),))
            )
