"""Bitwarden JSON export (plain or password-protected; personal vault or organisation).

Shape: {"encrypted": false, "folders": [{id, name}], "collections": [{id, name}]?, "items":
[{type: 1 login | 2 secure note | 3 card | 4 identity | 5 SSH key | 6 bank account |
7 driver's licence | 8 passport, name, notes, favorite,
folderId, collectionIds, fields: [{name, value, type: 0 text | 1 hidden | 2 boolean | 3
linked}], login: {uris: [{uri}], username, password, totp}, card: {...}, identity: {...},
passwordHistory: [{lastUsedDate, password}], creationDate, revisionDate}]}.
Parsed with json.load: the whole document is in memory (fine up to the 256 MiB cap).

Passkeys (login.fido2Credentials), attachments, items in the trash (deletedDate) and unknown
item types are not imported, and each is reported (see `ImportReport.lose`). A password-
protected export ("encrypted": true, "passwordProtected": true) is decrypted with the file's
password first (bitwarden_locked.py); an account-restricted one is refused saying which export
to make instead.
"""

from __future__ import annotations

from typing import IO, Any

from ..errors import FormatError
from ..records import Field, HistoryEntry
from ..templates import FieldKind
from . import bitwarden_locked
from .common import Draft, ImportReport, build, iso_time, load_json, text

WHAT = "Bitwarden JSON export"
_TYPES = {
    1: "login",
    2: "note",
    3: "credit-card",
    4: "identity",
    5: "custom",
    6: "bank-account",
    7: "drivers-licence",
    8: "passport",
}
#: Types 6–8: the item's sub-object, and its keys → our template fields (others: custom fields).
_DOCUMENTS: dict[int, tuple[str, dict[str, str]]] = {
    6: (
        "bankAccount",
        {
            "bankName": "bank",
            "nameOnAccount": "holder",
            "accountNumber": "number",
            "routingNumber": "routing",
            "iban": "iban",
            "swiftCode": "swift",
            "pin": "pin",
        },
    ),
    7: (
        "driversLicense",
        {"licenseNumber": "number", "expirationDate": "expires"},
    ),
    8: (
        "passport",
        {
            "passportNumber": "number",
            "issuingCountry": "country",
            "issueDate": "issued",
            "expirationDate": "expires",
        },
    ),
}
_LABELS = {
    "accountType": "account type",
    "branchNumber": "branch number",
    "bankContactPhone": "bank phone",
    "dateOfBirth": "date of birth",
    "issuingState": "issuing state",
    "issuingCountry": "issuing country",
    "issuingAuthority": "issuing authority",
    "issueDate": "issue date",
    "licenseClass": "licence class",
    "birthPlace": "place of birth",
    "passportType": "passport type",
    "nationalIdentificationNumber": "national ID number",
    "middleName": "middle name",
}


def read(stream: IO[bytes]) -> ImportReport:
    doc = load_json(stream, WHAT)
    if bitwarden_locked.is_locked(doc):
        doc = bitwarden_locked.unlock(doc)
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise FormatError(f'this is not a {WHAT}: there is no "items" list')
    if any(isinstance(i, dict) and "template_type" in i for i in doc["items"][:50]):
        raise FormatError(f"this is not a {WHAT}: it looks like an enpass-json export")
    names = {}
    for group in ("folders", "collections"):
        listed = doc.get(group)
        for f in listed if isinstance(listed, list) else ():
            if isinstance(f, dict) and f.get("id") is not None:
                names[text(f["id"])] = text(f.get("name"))
    report = ImportReport("bitwarden-json")
    items: list[Any] = doc["items"]
    del doc
    for i in range(len(items)):
        item, items[i] = items[i], None  # each item's objects are freed once it is a record
        where = f"item {i + 1}"
        if not isinstance(item, dict):
            report.skip(where, "not a JSON object")
            continue
        kind = item.get("type")
        if isinstance(kind, bool) or not isinstance(kind, int) or kind not in _TYPES:
            shown = (
                repr(kind)
                if isinstance(kind, int | str) and len(str(kind)) < 20
                else "(not a number)"
            )
            report.lose(
                where,
                "item of an unknown type",
                f"unknown Bitwarden item type {shown}{_label(item)}; not imported",
                skipped=True,
            )
            continue
        if item.get("deletedDate"):
            report.lose(
                where,
                "trashed item",
                f"in Bitwarden's trash{_label(item)}; not imported",
                skipped=True,
            )
            continue
        try:
            draft = Draft(
                _TYPES[kind],
                text(item.get("name")),
                notes=text(item.get("notes")),
                favorite=item.get("favorite") is True,
                created=iso_time(text(item.get("creationDate"))),
                modified=iso_time(text(item.get("revisionDate"))),
            )
            if item.get("folderId") is not None:
                draft.tags.append(names.get(text(item["folderId"]), ""))
            for cid in item.get("collectionIds") or ():
                draft.tags.append(names.get(text(cid), ""))
            _fill(draft, kind, item)
            _lost_parts(item, report, where)
        except (TypeError, AttributeError, ValueError):
            report.skip(where, "malformed item (a field has the wrong JSON type)")
            continue
        build(draft, report, where)
    return report


def _label(item: dict[str, Any]) -> str:
    """' ("name")' for a report line (names help find the item in Bitwarden)."""
    name = text(item.get("name")).strip()
    return f" ({name[:60]!r})" if name else ""


def _lost_parts(item: dict[str, Any], report: ImportReport, where: str) -> None:
    """Passkeys and attachments of an imported item, which the record will not have."""
    login = item.get("login")
    passkeys = login.get("fido2Credentials") if isinstance(login, dict) else None
    files = item.get("attachments")
    if not passkeys and not files:  # nearly every item: no label to make
        return
    label = _label(item)
    for pk in passkeys if isinstance(passkeys, list) else ():
        rp = text(pk.get("rpId")) if isinstance(pk, dict) else ""
        report.lose(
            where,
            "passkey",
            f"its passkey{' for ' + rp if rp else ''}{label} is not imported (passkeys cannot "
            "be moved between managers yet); the rest of the item is",
        )
    for f in files if isinstance(files, list) else ():
        name = text(f.get("fileName")) if isinstance(f, dict) else ""
        report.lose(
            where,
            "attachment",
            f"attachment {name[:60]!r}{label} is not in the export (Bitwarden exports "
            "attachments separately); the rest of the item is imported",
        )


def _obj(item: dict[str, Any], key: str) -> dict[str, Any]:
    value = item.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(key)
    return value


def _fill(draft: Draft, kind: int, item: dict[str, Any]) -> None:
    if kind == 1:
        login = _obj(item, "login")
        uris = [text(u.get("uri")) for u in login.get("uris") or () if isinstance(u, dict)]
        uris = [u for u in uris if u.strip()]
        if uris:
            draft.set("url", uris[0])
        for n, u in enumerate(uris[1:], 2):
            draft.add_extra(f"url {n}", u, FieldKind.URL)
        draft.set("username", text(login.get("username")))
        draft.set("password", text(login.get("password")))
        draft.totp = text(login.get("totp"))
        for h in item.get("passwordHistory") or ():
            pw, when = text(h.get("password")), iso_time(text(h.get("lastUsedDate")))
            if pw and when is not None:
                draft.history.append(HistoryEntry(when, (Field("password", FieldKind.SECRET, pw),)))
    elif kind == 3:
        card = _obj(item, "card")
        draft.set("cardholder", text(card.get("cardholderName")))
        draft.set("number", text(card.get("number")))
        month, year = text(card.get("expMonth")).strip(), text(card.get("expYear")).strip()
        if month or year:
            draft.set("expiry", f"{month.zfill(2)}/{year}" if month and year else month or year)
        draft.set("cvv", text(card.get("code")))
        draft.set("issuer", text(card.get("brand")))
    elif kind == 4:
        ident = _obj(item, "identity")
        draft.set("first-name", text(ident.get("firstName")))
        draft.set("last-name", text(ident.get("lastName")))
        draft.set("email", text(ident.get("email")))
        draft.set("phone", text(ident.get("phone")))
        lines = [text(ident.get(k)) for k in ("address1", "address2", "address3")]
        city = " ".join(
            p for p in (text(ident.get("postalCode")), text(ident.get("city"))) if p.strip()
        )
        lines += [city, text(ident.get("state")), text(ident.get("country"))]
        draft.set("address", "\n".join(p for p in lines if p.strip()))
        for key, label in (
            ("title", "title"),
            ("middleName", "middle name"),
            ("company", "company"),
            ("username", "username"),
            ("passportNumber", "passport number"),
            ("licenseNumber", "licence number"),
        ):
            draft.add_extra(label, text(ident.get(key)))
        draft.add_extra("social security number", text(ident.get("ssn")), FieldKind.SECRET)
    elif kind == 5:
        ssh = _obj(item, "sshKey")
        draft.add_extra("private key", text(ssh.get("privateKey")), FieldKind.SECRET)
        draft.add_extra("public key", text(ssh.get("publicKey")))
        draft.add_extra("fingerprint", text(ssh.get("keyFingerprint")))
    elif kind in _DOCUMENTS:
        key, mapping = _DOCUMENTS[kind]
        doc = _obj(item, key)
        if kind in (7, 8):
            first = text(doc.get("firstName") or doc.get("givenName"))
            last = text(doc.get("lastName") or doc.get("surname"))
            middle = text(doc.get("middleName"))
            draft.set("full-name", " ".join(p.strip() for p in (first, middle, last) if p.strip()))
        region = ", ".join(
            p.strip()
            for p in (text(doc.get("issuingState")), text(doc.get("issuingCountry")))
            if kind == 7 and p.strip()
        )
        draft.set("region", region)
        for k, value in doc.items():
            v = text(value)
            if not v.strip() or k in (
                "firstName",
                "givenName",
                "lastName",
                "surname",
                "middleName",
            ):
                continue
            if kind == 7 and k in ("issuingState", "issuingCountry"):
                continue
            ours = mapping.get(k)
            if ours and ours not in draft.values:
                draft.set(ours, v)
            else:
                draft.add_extra(_LABELS.get(k, k), v)
    for f in item.get("fields") or ():
        if not isinstance(f, dict) or f.get("type") == 3:
            continue  # linked fields point at another field; nothing to keep
        kind_ = FieldKind.SECRET if f.get("type") == 1 else FieldKind.TEXT
        value = (
            text(f.get("value"))
            if f.get("type") != 2
            else ("true" if truthy_bw(f.get("value")) else "false")
        )
        draft.add_extra(text(f.get("name")), value, kind_)


def truthy_bw(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
