"""KeePass 2 XML export (KeePassFile → Meta, Root → nested Group → Entry → String Key/Value).

Parsed as a stream with defusedxml (DTDs, entity declarations and external references are
refused, so an entity-expansion bomb fails at once); each entry is dropped from memory once
read. Groups become a tag (the path below the root group); entries in the recycle bin and
entries' own History are skipped; KeePass `Tags` are kept as tags.
"""

from __future__ import annotations

import base64
import binascii
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from ..errors import FormatError
from ..templates import FieldKind
from .common import Draft, ImportReport, build, iso_time, split_tags

WHAT = "KeePass 2 XML export"
_STD = {"title", "username", "password", "url", "notes"}
_TOTP = {"otp", "timeotp-secret-base32", "totp seed"}
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


def _read(stream: _Prefixed, report: ImportReport) -> None:
    path: list[str] = []
    groups: list[dict[str, str]] = []
    recycle_bin = ""
    entry_no = 0
    events: Any = iterparse(
        stream, events=("start", "end"), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    for event, elem in events:
        tag = elem.tag
        if event == "start":
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
        elif parent == "Group" and tag in ("UUID", "Name") and groups:
            groups[-1]["uuid" if tag == "UUID" else "name"] = (elem.text or "").strip()
        elif tag == "Group":
            groups.pop()
            elem.clear()
        elif tag == "Entry" and parent == "Group":
            entry_no += 1
            in_bin = bool(recycle_bin) and any(g["uuid"] == recycle_bin for g in groups)
            if not in_bin:
                _entry(
                    elem,
                    "/".join(g["name"] for g in groups[1:] if g["name"]),
                    report,
                    f"entry {entry_no}",
                )
            elem.clear()


def _entry(elem: Element, group: str, report: ImportReport, where: str) -> None:
    draft = Draft("login")
    draft.tags.append(group)
    draft.tags += split_tags(elem.findtext("Tags") or "")
    times = elem.find("Times")
    if times is not None:
        draft.created = kp_time(times.findtext("CreationTime") or "")
        draft.modified = kp_time(times.findtext("LastModificationTime") or "")
    for s in elem.findall("String"):
        key = (s.findtext("Key") or "").strip()
        value_el = s.find("Value")
        value = (value_el.text or "") if value_el is not None else ""
        protected = value_el is not None and value_el.get("Protected", "").lower() == "true"
        if protected and value:
            report.note(
                where,
                f"the value of {key!r} is encrypted inside the XML (an inner KDBX stream); "
                "export with KeePass's 'KeePass XML (2.x)' to get it — left out",
            )
            continue
        low = key.lower()
        if low == "title":
            draft.title = value
        elif low == "notes":
            draft.notes = value
        elif low in _STD:
            draft.set(low, value)
        elif low in _TOTP and not draft.totp:
            draft.totp = value
        else:
            secret = value_el is not None and value_el.get("ProtectInMemory", "").lower() == "true"
            draft.add_extra(key, value, FieldKind.SECRET if secret else FieldKind.TEXT)
    build(draft, report, where)
