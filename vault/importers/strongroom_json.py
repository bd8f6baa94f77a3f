"""Our own plaintext export: every field, kind, tag, favourite, TOTP secret, history and time.

{"format": "strongroom-json", "version": 1, "exported": ISO, "records": [{"id", "type",
"title", "fields": [{"name", "kind", "value"}], "notes", "tags", "favorite", "created",
"modified", "history": [{"modified", "fields"}]}]}. Times are Unix seconds (numbers, exact
to the stored millisecond) so a round trip gives identical records; ids are kept too.
"""

from __future__ import annotations

from typing import IO, Any

from ..errors import FormatError
from ..records import Field, HistoryEntry, Record, normalize_tags
from ..templates import TEMPLATES, FieldKind
from .common import ImportReport, load_json

FORMAT = "strongroom-json"
VERSION = 1
WHAT = "Strongroom JSON export"


def fields_to_obj(fields: tuple[Field, ...]) -> list[dict[str, str]]:
    return [{"name": f.name, "kind": f.kind.value, "value": f.value} for f in fields]


def record_to_obj(r: Record) -> dict[str, Any]:
    return {
        "id": r.id,
        "type": r.type,
        "title": r.title,
        "fields": fields_to_obj(r.fields),
        "notes": r.notes,
        "tags": list(r.tags),
        "favorite": r.favorite,
        "created": r.created,
        "modified": r.modified,
        "history": [{"modified": h.modified, "fields": fields_to_obj(h.fields)} for h in r.history],
    }


def _str(o: dict[str, Any], key: str, default: str | None = None) -> str:
    value = o.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f"{key!r} must be text")
    return value


def _time(o: dict[str, Any], key: str) -> float:
    value = o.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e11:
        raise ValueError(f"{key!r} must be a Unix time in seconds")
    return float(value)


def _fields(obj: Any) -> tuple[Field, ...]:
    if not isinstance(obj, list):
        raise ValueError("'fields' must be a list")
    out = []
    for f in obj:
        if not isinstance(f, dict):
            raise ValueError("a field must be an object")
        try:
            kind = FieldKind(_str(f, "kind"))
        except ValueError:
            raise ValueError(f"unknown field kind {f.get('kind')!r}") from None
        out.append(Field(_str(f, "name"), kind, _str(f, "value")))
    return tuple(out)


def record_from_obj(o: Any) -> Record:
    """ValueError (with a reason a person understands) when the object is not a record."""
    if not isinstance(o, dict):
        raise ValueError("not a JSON object")
    rid, type_ = _str(o, "id"), _str(o, "type")
    if not rid.strip() or len(rid) > 64:
        raise ValueError("'id' must be non-empty text of at most 64 characters")
    if type_ not in TEMPLATES:
        raise ValueError(f"unknown record type {type_!r}")
    tags = o.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("'tags' must be a list of text")
    history = o.get("history", [])
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise ValueError("'history' must be a list of objects")
    favorite = o.get("favorite", False)
    if not isinstance(favorite, bool):
        raise ValueError("'favorite' must be true or false")
    return Record(
        rid,
        type_,
        _str(o, "title"),
        _fields(o.get("fields", [])),
        _str(o, "notes", ""),
        normalize_tags(tags),
        favorite,
        _time(o, "created"),
        _time(o, "modified"),
        tuple(HistoryEntry(_time(h, "modified"), _fields(h.get("fields", []))) for h in history),
    )


def read(stream: IO[bytes]) -> ImportReport:
    doc = load_json(stream, WHAT)
    if (
        not isinstance(doc, dict)
        or doc.get("format") != FORMAT
        or not isinstance(doc.get("records"), list)
    ):
        raise FormatError(f'this is not a {WHAT} (no "format": "{FORMAT}" with a "records" list)')
    version = doc.get("version")
    if version != VERSION:
        raise FormatError(
            f"this {WHAT} has version {version!r}; this Strongroom reads version {VERSION}"
        )
    report = ImportReport(FORMAT)
    seen: set[str] = set()
    for i, obj in enumerate(doc["records"], 1):
        where = f"record {i}"
        try:
            rec = record_from_obj(obj)
        except ValueError as exc:
            report.skip(where, f"malformed record: {exc}")
            continue
        if rec.id in seen:
            report.skip(where, f"a second record with id {rec.id} in this file")
            continue
        seen.add(rec.id)
        report.add(rec, where)
    return report
