"""Records: a template type, typed fields, notes, tags, favourite, times, secret history, the
previous versions (history format 1) and the trash mark. History lives inside the encrypted
record, so it syncs, merges and is pruned with the version that carries it (docs/design.md)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from . import safejson
from .attachments import Attachment
from .errors import FormatError, InvalidInputError, UnsupportedVersionError
from .templates import FieldKind, template

NO_TITLE = "No Title"


def _json_encoder() -> Callable[[Any], str]:
    """= json.dumps(obj, separators=(",", ":"), ensure_ascii=False) for a record's tree (no
    cycles: it is built from frozen dataclasses), with json's C encoder made once instead of on
    every call: sealing serialises every version, 100,000 of them on an import, and making the
    encoder and tracking cycles was half of that."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without json's C speedups
        return json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

    def refuse(obj: Any) -> Any:
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

    encode = make(None, refuse, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    return lambda obj: "".join(encode(obj, 0))


_ENCODE = _json_encoder()
_QUOTE = json.encoder.encode_basestring  # json's own quoting of a str (ensure_ascii=False)
_FLOAT = float.__repr__  # what json writes for a finite float


def _plain_json(r: Record) -> str | None:
    """The text `_ENCODE(_record_to_obj(r))` gives, written out directly for the common record
    (no files, trash mark, history or versions; float times): twice as fast, and sealing
    serialises every version (100,000 on an import). None for any other record."""
    c, m = r.created, r.modified
    if (
        r.history
        or r.versions
        or r.attachments
        or r.trashed is not None
        or type(c) is not float
        or type(m) is not float
        or type(r.favorite) is not bool
        or not (math.isfinite(c) and math.isfinite(m))
    ):
        return None
    try:  # a value that is no str (never made here) is left to the general path's error
        fields = ",".join(
            [f"[{_QUOTE(f.name)},{_QUOTE(f.kind)},{_QUOTE(f.value)}]" for f in r.fields]
        )
        tags = ",".join([_QUOTE(t) for t in r.tags])
        return (
            f'{{"id":{_QUOTE(r.id)},"type":{_QUOTE(r.type)},"title":{_QUOTE(r.title)},'
            f'"f":[{fields}],"notes":{_QUOTE(r.notes)},"tags":[{tags}],'
            f'"fav":{"true" if r.favorite else "false"},"c":{_FLOAT(c)},"m":{_FLOAT(m)},"h":[]}}'
        )
    except TypeError:
        return None


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
    """Values that a change replaced: `modified` is the time of the version that held them,
    `replaced` the time of the change that replaced them (None: written before it was kept)."""

    modified: float
    fields: tuple[Field, ...]
    replaced: float | None = None


@dataclass(frozen=True)
class Version:
    """A previous version of a record, kept inside the record: when it was saved, by which
    device, and the record as it was then (without its own history, versions or trash mark)."""

    modified: float
    device: str
    snapshot: Record

    @property
    def vid(self) -> str:
        """A short content id, the same on every device: what merging histories keys on."""
        body = [self.modified, self.device, _snapshot_obj(self.snapshot)]
        raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(raw.encode()).hexdigest()[:12]


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
    #: previous versions, oldest first (history format 1)
    versions: tuple[Version, ...] = ()
    #: when it was moved to the trash; None: not in the trash
    trashed: float | None = None

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
        text = _plain_json(self)
        return (text if text is not None else _ENCODE(_record_to_obj(self))).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Record:
        try:
            return _record_from_obj(safejson.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            raise FormatError("record contents are malformed") from exc


_new = object.__new__


def make_field(name: str, kind: FieldKind, value: str) -> Field:
    """= Field(name, kind, value), its attributes set straight into the new object's __dict__:
    a frozen dataclass's __init__ sets each through object.__setattr__, and an import makes
    hundreds of thousands of fields (a third of the time of each)."""
    f = _new(Field)
    d = f.__dict__
    d["name"] = name
    d["kind"] = kind
    d["value"] = value
    return f


def _fields_to_obj(fields: tuple[Field, ...]) -> list[list[str]]:
    # f.kind is a StrEnum: JSON writes it as its value, and reading `.value` through the enum's
    # descriptor was a tenth of sealing a record
    return [[f.name, f.kind, f.value] for f in fields]


#: FieldKind by its stored value: a dict lookup, where calling the enum costs about a microsecond
#: per field (export and the first unlock read every field of every record).
_KIND_OF: dict[str, FieldKind] = {k.value: k for k in FieldKind}


def _fields_from_obj(obj: list[list[str]]) -> tuple[Field, ...]:
    return tuple(Field(str(n), _KIND_OF[k], str(v)) for n, k, v in obj)


#: History format: the version of the "v" list (previous versions) inside a record's JSON.
HISTORY_FORMAT = 1


def _snapshot_obj(r: Record) -> dict[str, Any]:
    """The parts of a record a previous version keeps: everything but its history."""
    obj: dict[str, Any] = {
        "id": r.id,
        "type": r.type,
        "title": r.title,
        "f": _fields_to_obj(r.fields),
        "notes": r.notes,
        "tags": list(r.tags),
        "fav": r.favorite,
        "c": r.created,
        "m": r.modified,
    }
    if r.attachments:  # absent when none: a record without files seals as before
        obj["att"] = [a.to_obj() for a in r.attachments]
    if r.trashed is not None:
        obj["t"] = r.trashed
    return obj


def bare(r: Record) -> Record:
    """`r` without its history: what a previous version keeps."""
    return replace(r, history=(), versions=())


def _record_to_obj(r: Record) -> dict[str, Any]:
    obj = _snapshot_obj(r)
    obj["h"] = [
        [h.modified, _fields_to_obj(h.fields)] + ([h.replaced] if h.replaced is not None else [])
        for h in r.history
    ]
    if r.versions:
        obj["hv"] = HISTORY_FORMAT
        obj["v"] = [[v.modified, v.device, _snapshot_obj(v.snapshot)] for v in r.versions]
    return obj


def _history_entry(raw: list[Any]) -> HistoryEntry:
    replaced = float(raw[2]) if len(raw) > 2 and raw[2] is not None else None
    return HistoryEntry(float(raw[0]), _fields_from_obj(raw[1]), replaced)


def _record_from_obj(o: dict[str, Any], nested: bool = False) -> Record:
    versions: tuple[Version, ...] = ()
    if "v" in o and not nested:
        if o.get("hv") != HISTORY_FORMAT:
            raise UnsupportedVersionError(
                f"record history format {o.get('hv')!r} is newer than this Strongroom: update it"
            )
        versions = tuple(
            Version(float(m), str(d), _record_from_obj(snap, nested=True)) for m, d, snap in o["v"]
        )
    trashed = o.get("t")
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
        history=tuple(_history_entry(h) for h in o.get("h", ())),
        versions=versions,
        trashed=None if trashed is None else float(trashed),
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
    times: tuple[float, float] | None = None,
    history: tuple[HistoryEntry, ...] = (),
) -> Record:
    """A record of a template; template fields first (in template order), then `extra` fields.

    `times` (created, modified) and `history` keep an imported entry's own (default: now, none)."""
    tpl = template(type_key)
    values = {k.lower(): v for k, v in (values or {}).items()}
    fields = [Field(s.name, s.kind, values.pop(s.name)) for s in tpl.fields if s.name in values]
    if values:
        raise InvalidInputError(f"fields not in the {tpl.label} template: {', '.join(values)}")
    return record_of(
        tpl.key,
        title,
        tuple(fields) + extra,
        notes=notes,
        tags=tags,
        favorite=favorite,
        times=times,
        history=history,
    )


def record_of(
    type_key: str,
    title: str,
    fields: tuple[Field, ...],
    *,
    notes: str = "",
    tags: tuple[str, ...] | list[str] = (),
    favorite: bool = False,
    times: tuple[float, float] | None = None,
    history: tuple[HistoryEntry, ...] = (),
) -> Record:
    """A new record (fresh id) of `fields` as given: the end of `new_record`, for a caller that
    matched every field to its template and ordered them itself (an import, 100,000 records)."""
    if times is None:
        t = now()
        times = (t, t)
    # = Record(new_record_id(), type_key, …, history) set as make_field does (13 attributes)
    r = _new(Record)
    d = r.__dict__
    d["id"] = new_record_id()
    d["type"] = type_key
    d["title"] = title
    d["fields"] = fields
    d["notes"] = notes
    d["tags"] = normalize_tags(tags)
    d["favorite"] = favorite
    d["created"] = times[0]
    d["modified"] = times[1]
    d["history"] = history
    d["attachments"] = ()
    d["versions"] = ()
    d["trashed"] = None
    return r


def normalize_tags(tags: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    if len(tags) == 1:  # an imported entry's folder: nothing to compare
        tag = tags[0].strip()
        return (tag,) if tag else ()
    seen: dict[str, None] = {}
    for tag in tags:
        tag = tag.strip()
        if tag and tag.lower() not in {s.lower() for s in seen}:
            seen[tag] = None
    return tuple(seen)


def same_content(a: Record, b: Record) -> bool:
    """True when two records differ at most in their times, history and versions."""
    one, two = _snapshot_obj(a), _snapshot_obj(b)
    for obj in (one, two):
        obj.pop("m")
    return one == two


def merge_versions(*histories: tuple[Version, ...]) -> tuple[Version, ...]:
    """The union of version histories, oldest first: commutative, associative and idempotent
    (keyed by content id, ordered by time, device and id), so every device merges alike."""
    by_id: dict[str, Version] = {}
    for history in histories:
        for v in history:
            by_id.setdefault(v.vid, v)
    return tuple(sorted(by_id.values(), key=lambda v: (v.modified, v.device, v.vid)))


def prune_versions(
    versions: tuple[Version, ...], keep: int, days: float, at: float
) -> tuple[Version, ...]:
    """The versions a retention keeps: none older than `days` before `at` (0: no age limit),
    then the newest `keep` (0: no count limit). Pure, so the version that carries the result
    is the same on every device."""
    kept = [v for v in versions if days <= 0 or v.modified >= at - days * 86400]
    return tuple(kept[-keep:] if keep > 0 else kept)


def revise(old: Record, new: Record, device: str = "") -> Record:
    """`new` as the next version of `old`: keeps id/created, stamps modified, records replaced
    secrets and keeps `old` (written by `device`) as a previous version when anything changed."""
    # strictly after the version it replaces (times are to the millisecond): two quick edits in
    # one millisecond would otherwise tie and their order in the history fall to content ids
    stamp = max(now(), round(old.modified + 0.001, 3))
    changed = tuple(
        f for f in old.fields if f.kind.concealed and f.value and (new.value(f.name) != f.value)
    )
    history = old.history + ((HistoryEntry(old.modified, changed, stamp),) if changed else ())
    versions = merge_versions(old.versions, new.versions)
    if not same_content(old, new):
        versions = merge_versions(versions, (Version(old.modified, device, bare(old)),))
    return replace(
        new,
        id=old.id,
        created=old.created,
        modified=stamp,
        history=history,
        versions=versions,
        tags=normalize_tags(new.tags),
    )


def with_history_of(record: Record, other: Record, device: str = "") -> Record:
    """`record` with `other` (a conflict loser written by `device`) kept: its differing fields
    appended to the password history, its versions merged in and itself a previous version."""
    versions = merge_versions(record.versions, other.versions)
    if not same_content(record, other):
        versions = merge_versions(versions, (Version(other.modified, device, bare(other)),))
    record = replace(record, versions=versions)
    have = {a.id for a in record.attachments}
    files = tuple(a for a in other.attachments if a.id not in have)
    if files:  # a file added on the other side is kept, never dropped with it
        record = replace(record, attachments=record.attachments + files)
    diff = tuple(f for f in other.fields if record.value(f.name) != f.value)
    if not diff:
        return record
    return replace(
        record,
        history=record.history + (HistoryEntry(other.modified, diff, record.modified),),
    )
