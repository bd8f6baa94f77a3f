"""Records: a template type, typed fields, notes, tags, favourite, times, secret history."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from .attachments import Attachment
from .errors import FormatError, InvalidInputError
from .templates import FieldKind, template

NO_TITLE = "No Title"
DECRYPTION_ERROR = "<decryption error>"


def now() -> float:
    return round(time.time(), 3)


def iso(ts: float) -> str:
    """ISO 8601 UTC, second precision: what --json prints."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_record_id() -> str:
    return os.urandom(8).hex()  # = secrets.token_hex; importing secrets costs ~4 ms per CLI call


@dataclass(frozen=True)
class Field:
    name: str
    kind: FieldKind
    value: str

    def __repr__(self) -> str:
        shown = "<hidden>" if self.kind.concealed else repr(self.value)
        return f"Field({self.name!r}, {self.kind.value}, {shown})"


@dataclass(frozen=True)
class HistoryEntry:
    """Values that a change replaced, with the time they were last current."""

    modified: float
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Record:
    id: str
    type: str
    title: str
    fields: tuple[Field, ...] = ()
    notes: str = ""
    tags: tuple[str, ...] = ()
    favorite: bool = False
    created: float = 0.0
    modified: float = 0.0
    history: tuple[HistoryEntry, ...] = ()
    #: files (metadata; the bytes are in blobs): vault/attachments.py
    attachments: tuple[Attachment, ...] = ()

    def __repr__(self) -> str:
        return f"Record(id={self.id!r}, type={self.type!r}, fields={len(self.fields)})"

    @property
    def display_title(self) -> str:
        return self.title or NO_TITLE

    def field(self, name: str) -> Field | None:
        low = name.lower()
        return next((f for f in self.fields if f.name.lower() == low), None)

    def value(self, name: str) -> str | None:
        f = self.field(name)
        return f.value if f else None

    @property
    def username(self) -> str | None:
        return self.value("username") or self.value("email")

    @property
    def url(self) -> str | None:
        return self.value("url")

    def to_json(self) -> bytes:
        return json.dumps(_record_to_obj(self), separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Record:
        try:
            return _record_from_obj(json.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            raise FormatError("record contents are malformed") from exc


def _fields_to_obj(fields: tuple[Field, ...]) -> list[list[str]]:
    return [[f.name, f.kind.value, f.value] for f in fields]


#: FieldKind by its stored value: a dict lookup, where calling the enum costs about a microsecond
#: per field (export and the first unlock read every field of every record).
_KIND_OF: dict[str, FieldKind] = {k.value: k for k in FieldKind}


def _fields_from_obj(obj: list[list[str]]) -> tuple[Field, ...]:
    return tuple(Field(str(n), _KIND_OF[k], str(v)) for n, k, v in obj)


def _record_to_obj(r: Record) -> dict[str, Any]:
    obj = {
        "id": r.id,
        "type": r.type,
        "title": r.title,
        "f": _fields_to_obj(r.fields),
        "notes": r.notes,
        "tags": list(r.tags),
        "fav": r.favorite,
        "c": r.created,
        "m": r.modified,
        "h": [[h.modified, _fields_to_obj(h.fields)] for h in r.history],
    }
    if r.attachments:  # absent when none: a record without files seals as before
        obj["att"] = [a.to_obj() for a in r.attachments]
    return obj


def _record_from_obj(o: dict[str, Any]) -> Record:
    return Record(
        id=str(o["id"]),
        type=str(o["type"]),
        title=str(o["title"]),
        fields=_fields_from_obj(o["f"]),
        notes=str(o.get("notes", "")),
        tags=tuple(str(t) for t in o.get("tags", ())),
        favorite=bool(o.get("fav")),
        created=float(o["c"]),
        modified=float(o["m"]),
        history=tuple(HistoryEntry(float(m), _fields_from_obj(fs)) for m, fs in o.get("h", ())),
        attachments=tuple(Attachment.from_obj(a) for a in o.get("att", ())),
    )


def new_record(
    type_key: str,
    title: str,
    values: dict[str, str] | None = None,
    *,
    notes: str = "",
    tags: tuple[str, ...] = (),
    favorite: bool = False,
    extra: tuple[Field, ...] = (),
) -> Record:
    """A record of a template; template fields first (in template order), then `extra` fields."""
    tpl = template(type_key)
    values = {k.lower(): v for k, v in (values or {}).items()}
    fields = [Field(s.name, s.kind, values.pop(s.name)) for s in tpl.fields if s.name in values]
    if values:
        raise InvalidInputError(f"fields not in the {tpl.label} template: {', '.join(values)}")
    t = now()
    return Record(
        new_record_id(),
        tpl.key,
        title,
        tuple(fields) + extra,
        notes,
        normalize_tags(tags),
        favorite,
        t,
        t,
    )


def normalize_tags(tags: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in tags:
        tag = tag.strip()
        if tag and tag.lower() not in {s.lower() for s in seen}:
            seen[tag] = None
    return tuple(seen)


def revise(old: Record, new: Record) -> Record:
    """`new` as the next version of `old`: keeps id/created, stamps modified, records replaced secrets."""
    changed = tuple(
        f for f in old.fields if f.kind.concealed and f.value and (new.value(f.name) != f.value)
    )
    history = old.history + ((HistoryEntry(old.modified, changed),) if changed else ())
    return replace(
        new,
        id=old.id,
        created=old.created,
        modified=max(now(), old.modified),
        history=history,
        tags=normalize_tags(new.tags),
    )


def with_history_of(record: Record, other: Record) -> Record:
    """`record` with `other`'s differing fields appended to its history (conflict losers, backups)."""
    have = {a.id for a in record.attachments}
    files = tuple(a for a in other.attachments if a.id not in have)
    if files:  # a file added on the other side is kept, never dropped with it
        record = replace(record, attachments=record.attachments + files)
    diff = tuple(f for f in other.fields if record.value(f.name) != f.value)
    if not diff:
        return record
    return replace(record, history=record.history + (HistoryEntry(other.modified, diff),))
