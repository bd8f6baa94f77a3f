"""KeePass 2 XML export (KeePassFile → Meta, Root → nested Group → Entry → String Key/Value).

Parsed as a stream with defusedxml (DTDs, entity declarations and external references are
refused, so an entity-expansion bomb fails at once); each entry is dropped from memory once
read. Groups become a tag (the path below the root group); entries in the recycle bin are
skipped; an entry's History becomes the record's secret history (each older password, and
other concealed value, that a later version replaced); KeePass `Tags` are kept as tags.

One-time passwords: KeePassXC's `otp` (an otpauth:// link) and `TOTP Seed`/`TOTP Settings`,
and KeePass 2.47+'s `TimeOtp-Secret[-Hex|-Base32|-Base64]`, `TimeOtp-Length`,
`TimeOtp-Period` and `TimeOtp-Algorithm`, become one otpauth:// link with those digits,
period and algorithm. Attachments come along as the record's files: an export's binary pool
(`Meta/Binaries`, base64, gzip when `Compressed="True"`, as KeePass and KeePassXC write it) or a
value inline in the entry; one whose bytes are not in the export (KeePassXC leaves a KDBX 4
database's pool out of its XML export) is named as not imported, pointing at keepass-kdbx.

KeePassX 0.4's XML (`<!DOCTYPE KEEPASSX_DATABASE>`, `<database>`, `<group>`, `<entry>` with
`<comment>` lines separated by `<br/>`) is read too: that one bare DOCTYPE line is the only
one allowed.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Mapping, Sequence
from typing import IO, Any
from urllib.parse import quote
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from ..errors import FormatError
from ..records import Field, HistoryEntry
from ..templates import FieldKind
from .common import MAX_JSON_BYTES, Draft, ImportReport, build, iso_time, split_tags

WHAT = "KeePass 2 XML export"
_STD = {"title", "username", "password", "url", "notes"}
_OTP_KEYS = {
    "otp",
    "totp seed",
    "totp settings",
    "timeotp-secret",
    "timeotp-secret-hex",
    "timeotp-secret-base32",
    "timeotp-secret-base64",
    "timeotp-length",
    "timeotp-period",
    "timeotp-algorithm",
}
_ALGORITHMS = {"hmac-sha-1": "SHA1", "hmac-sha-256": "SHA256", "hmac-sha-512": "SHA512"}
_KEEPASSX_DOCTYPE = re.compile(rb"<!DOCTYPE\s+KEEPASSX_DATABASE\s*>")
#: KDBX 4 writes times as base64 of little-endian seconds since 0001-01-01.
_EPOCH_OFFSET = 62135596800


def kp_time(value: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    t = iso_time(value)
    if t is not None:
        return t
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 8:
        return None
    secs = int.from_bytes(raw, "little") - _EPOCH_OFFSET
    return float(secs) if 0 <= secs < 10**11 else None


class _Prefixed:
    """A stream whose first bytes were already read (to check for XML) — iterparse reads on."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head, self._rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            out, self._head = self._head, b""
            return out
        return self._rest.read(size)


def read(stream: IO[bytes]) -> ImportReport:
    report = ImportReport("keepass-xml")
    head = stream.read(4096)
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise FormatError(f"this is not a {WHAT}: it is not XML")
    head = _KEEPASSX_DOCTYPE.sub(b"", head, count=1)  # KeePassX 0.4: a bare name, no subset
    try:
        _read(_Prefixed(head, stream), report)
    except (ParseError, DefusedXmlException) as exc:
        if isinstance(exc, DefusedXmlException):
            raise FormatError(
                f"this {WHAT} declares a DTD or entities, which are refused "
                "(they can expand without bound); KeePass never writes them"
            ) from None
        line = getattr(exc, "position", (0, 0))[0]
        raise FormatError(
            f"this is not a valid {WHAT}: malformed XML near line {line} (is the file complete?)"
        ) from None
    except (UnicodeDecodeError, LookupError):
        raise FormatError(f"this is not a {WHAT}: its text encoding is unknown or broken") from None
    return report


#: An attachment's bytes, or why they cannot be had (bad base64, bad gzip, too large).
Pool = Mapping[int, bytes | str] | Sequence[bytes]


def binary_value(elem: Element) -> bytes | str:
    """A <Binary> of the pool, or an inline <Value>: its bytes, or why there are none. Gzip is
    unpacked to at most 256 MiB (a bomb stops there)."""
    try:
        raw = base64.b64decode("".join((elem.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        return "its bytes in the export are not valid base64"
    if (elem.get("Compressed") or "").strip().lower() != "true":
        return raw
    unpack = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = unpack.decompress(raw, MAX_JSON_BYTES + 1)
    except zlib.error:
        return "its compressed bytes in the export are damaged"
    if len(out) > MAX_JSON_BYTES or unpack.unconsumed_tail:
        return "it is larger than 256 MiB unpacked"
    if not unpack.eof:
        return "its compressed bytes in the export are cut short"
    return out


def _pooled(binaries: Pool, index: int) -> bytes | str | None:
    if isinstance(binaries, Mapping):
        return binaries.get(index)
    return binaries[index] if index < len(binaries) else None


def _read(stream: _Prefixed, report: ImportReport) -> None:
    path: list[str] = []
    groups: list[dict[str, str]] = []
    pool: dict[int, bytes | str] = {}
    recycle_bin = ""
    entry_no = 0
    events: Any = iterparse(
        stream, events=("start", "end"), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    for event, elem in events:
        tag = elem.tag
        if event == "start":
            if not path and tag == "database":
                _read_keepassx(events, report)
                return
            if not path and tag != "KeePassFile":
                raise FormatError(
                    f"this is not a {WHAT}: the document is <{str(tag)[:40]}>, not <KeePassFile>"
                )
            path.append(tag)
            if tag == "Group":
                groups.append({"uuid": "", "name": ""})
            continue
        path.pop()
        parent = path[-1] if path else ""
        if tag == "RecycleBinUUID" and parent == "Meta":
            recycle_bin = (elem.text or "").strip()
        elif tag == "Binary" and parent == "Binaries" and "Meta" in path:
            index = (elem.get("ID") or "").strip()
            if index.isdigit():
                pool[int(index)] = binary_value(elem)
            elem.clear()
        elif parent == "Group" and tag in ("UUID", "Name") and groups:
            groups[-1]["uuid" if tag == "UUID" else "name"] = (elem.text or "").strip()
        elif tag == "Group":
            groups.pop()
            elem.clear()
        elif tag == "Entry" and parent == "Group":
            entry_no += 1
            in_bin = bool(recycle_bin) and any(g["uuid"] == recycle_bin for g in groups)
            if not in_bin:
                read_entry(
                    elem,
                    "/".join(g["name"] for g in groups[1:] if g["name"]),
                    report,
                    f"entry {entry_no}",
                    binaries=pool or None,
                )
            elem.clear()


def read_entry(
    elem: Element,
    group: str,
    report: ImportReport,
    where: str,
    *,
    decrypted: bool = False,
    binaries: Pool | None = None,
) -> None:
    """One KeePass <Entry> → a record (with its <History> as the record's secret history).

    `decrypted`: the values marked Protected are plain text already (a KDBX file opened with its
    key); in a plain XML export they are encrypted with a key we do not have, so left out.
    `binaries`: the attachment bytes (a KDBX file's, an XML export's pool) which the entry's
    <Binary><Value Ref>s point into; without them (an XML export without a pool) a referenced
    attachment is named as not imported. An inline <Value> carries its own bytes.
    """
    draft = Draft("login")
    draft.tags.append(group)
    draft.tags += split_tags(elem.findtext("Tags") or "")
    draft.created, draft.modified = _times(elem)
    otp: dict[str, str] = {}
    for key, value, secret in _strings(elem, report, where, decrypted):
        low = key.lower()
        if low == "title":
            draft.title = value
        elif low == "notes":
            draft.notes = value
        elif low in _STD:
            draft.set(low, value)
        elif low in _OTP_KEYS:
            otp[low] = value
        else:
            draft.add_extra(key, value, FieldKind.SECRET if secret else FieldKind.TEXT)
    if otp:
        _otp(draft, otp, report, where)
    draft.history = _history(elem, decrypted, draft.created)
    for b in elem.findall("Binary"):
        name = (b.findtext("Key") or "").strip()
        ref = b.find("Value")
        index = (ref.get("Ref") or "").strip() if ref is not None else ""
        got: bytes | str | None = None
        if ref is not None and not index and (ref.text or "").strip():
            got = binary_value(ref)  # inline (KeePass 2.0x)
        elif binaries is not None and index.isdigit():
            got = _pooled(binaries, int(index))
        if isinstance(got, bytes):
            draft.files.append((name, got))
            continue
        why = (
            got
            if got is not None
            else "its bytes are not in the file"
            if binaries is not None
            else "its bytes are not in this export: import the .kdbx itself as keepass-kdbx "
            "to keep attachments"
        )
        report.lose(
            where,
            "attachment",
            f"attachment {name[:60]!r} is not imported ({why}); the rest of the entry is",
        )
    build(draft, report, where)


def _times(elem: Element) -> tuple[float | None, float | None]:
    times = elem.find("Times")
    if times is None:
        return None, None
    return (
        kp_time(times.findtext("CreationTime") or ""),
        kp_time(times.findtext("LastModificationTime") or ""),
    )


def _strings(
    elem: Element, report: ImportReport | None, where: str, decrypted: bool
) -> list[tuple[str, str, bool]]:
    """(key, value, concealed) of an entry's <String>s; a value still encrypted is left out
    (said in `report` when one is given)."""
    out = []
    for s in elem.findall("String"):
        key = (s.findtext("Key") or "").strip()
        value_el = s.find("Value")
        value = (value_el.text or "") if value_el is not None else ""
        protected = value_el is not None and value_el.get("Protected", "").lower() == "true"
        if protected and value and not decrypted:
            if report is not None:
                report.note(
                    where,
                    f"the value of {key!r} is encrypted inside the XML (an inner KDBX stream); "
                    "export with KeePass's 'KeePass XML (2.x)' or import the .kdbx file itself "
                    "(keepass-kdbx) to get it — left out",
                )
            continue
        secret = protected or (
            value_el is not None and value_el.get("ProtectInMemory", "").lower() == "true"
        )
        out.append((key, value, secret or key.lower() == "password"))
    return out


def _history(elem: Element, decrypted: bool, created: float | None) -> list[HistoryEntry]:
    """An entry's <History> as the record's secret history: for each older version, its
    concealed values that the next version replaced (what editing in Strongroom keeps)."""
    old = elem.find("History")
    if old is None:
        return []
    versions: list[tuple[float, dict[str, str]]] = []
    for h in old.findall("Entry"):
        when = _times(h)[1] or created or 0.0
        secrets = {k: v for k, v, secret in _strings(h, None, "", decrypted) if secret}
        versions.append((when, secrets))
    current = {k: v for k, v, secret in _strings(elem, None, "", decrypted) if secret}
    out = []
    for i, (when, secrets) in enumerate(versions):
        newer = versions[i + 1][1] if i + 1 < len(versions) else current
        changed = tuple(
            Field("password" if k.lower() == "password" else k, FieldKind.SECRET, v)
            for k, v in secrets.items()
            if v and newer.get(k) != v and k.lower() not in _OTP_KEYS
        )
        if changed:
            out.append(HistoryEntry(when, changed))
    return out


def otp_link(otp: dict[str, str], title: str) -> str:
    """KeePass / KeePassXC one-time password strings → one otpauth:// link ('' if none).

    Raises ValueError when a secret or setting is there but unusable.
    """
    if otp.get("otp", "").strip():
        return otp["otp"].strip()
    settings_given = any(
        otp.get(k, "").strip()
        for k in ("totp settings", "timeotp-length", "timeotp-period", "timeotp-algorithm")
    )
    bare = (otp.get("timeotp-secret-base32") or otp.get("totp seed") or "").strip()
    if bare and not settings_given:
        return bare  # the defaults (6 digits, 30 s, SHA-1): the secret says it all
    raw: bytes | None = None
    if otp.get("timeotp-secret-base32", "").strip() or otp.get("totp seed", "").strip():
        secret = (otp.get("timeotp-secret-base32") or otp.get("totp seed") or "").strip()
        cleaned = "".join(secret.split()).upper().rstrip("=")
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    elif otp.get("timeotp-secret-hex", "").strip():
        raw = bytes.fromhex("".join(otp["timeotp-secret-hex"].split()))
    elif otp.get("timeotp-secret-base64", "").strip():
        raw = base64.b64decode(otp["timeotp-secret-base64"].strip(), validate=True)
    elif otp.get("timeotp-secret", ""):
        raw = otp["timeotp-secret"].encode("utf-8")
    if not raw:
        return ""
    digits, period, algorithm = "6", "30", "SHA1"
    settings = otp.get("totp settings", "").strip()  # KeePassXC before 2.6: "30;6" or "30;S"
    if settings:
        period, _, size = settings.partition(";")
        digits = "5" if size.strip().upper() == "S" else (size.strip() or "6")
    digits = otp.get("timeotp-length", "").strip() or digits
    period = otp.get("timeotp-period", "").strip() or period
    name = otp.get("timeotp-algorithm", "").strip().lower()
    if name:
        if name not in _ALGORITHMS:
            raise ValueError(f"unknown algorithm {name!r}")
        algorithm = _ALGORITHMS[name]
    if not (digits.isdigit() and period.isdigit() and 1 <= int(digits) <= 10 and int(period) > 0):
        raise ValueError("digits or period not a number")
    secret32 = base64.b32encode(raw).decode("ascii").rstrip("=")
    return (
        f"otpauth://totp/{quote(title.strip() or 'KeePass', safe='')}?secret={secret32}"
        f"&digits={int(digits)}&period={int(period)}&algorithm={algorithm}"
    )


def _otp(draft: Draft, otp: dict[str, str], report: ImportReport, where: str) -> None:
    try:
        link = otp_link(otp, draft.title)
    except (ValueError, binascii.Error):
        link = ""
        report.note(where, "its one-time password settings are not usable; kept as fields")
    if link:
        draft.totp = link
        return
    for key, value in otp.items():
        draft.add_extra(key, value, FieldKind.SECRET)


def _read_keepassx(events: Any, report: ImportReport) -> None:
    """KeePassX 0.4: <database><group><title/>…<entry><title/><username/>…</entry></group>."""
    groups: list[str] = []
    depth_tags: list[str] = ["database"]
    entry_no = 0
    for event, elem in events:
        tag = elem.tag
        if event == "start":
            depth_tags.append(tag)
            if tag == "group":
                groups.append("")
            continue
        depth_tags.pop()
        parent = depth_tags[-1] if depth_tags else ""
        if tag == "title" and parent == "group" and groups:
            groups[-1] = (elem.text or "").strip().strip("/")
        elif tag == "group":
            groups.pop()
            elem.clear()
        elif tag == "entry":
            entry_no += 1
            draft = Draft("login", elem.findtext("title") or "")
            draft.tags.append("/".join(g for g in groups if g))
            draft.set("username", elem.findtext("username") or "")
            draft.set("password", elem.findtext("password") or "")
            draft.set("url", elem.findtext("url") or "")
            comment = elem.find("comment")
            if comment is not None:
                parts = [comment.text or ""]
                for br in comment:
                    parts.append("\n" + (br.tail or ""))
                draft.notes = "".join(parts)
            draft.created = kp_time(elem.findtext("creation") or "")
            draft.modified = kp_time(elem.findtext("lastmod") or "")
            build(draft, report, f"entry {entry_no}")
            elem.clear()
