"""Our own plaintext export: every field, kind, tag, favourite, TOTP secret, history and time.

{"format": "strongroom-json", "version": 1, "exported": ISO, "records": [{"id", "type",
"title", "fields": [{"name", "kind", "value"}], "notes", "tags", "favorite", "created",
"modified", "history": [{"modified", "fields"}], "attachments": [{"name", "size", "file"}]}]}.
Times are Unix seconds (numbers, exact to the stored millisecond) so a round trip gives identical
records; ids are kept too. An attachment's `file` is its bytes' path relative to the JSON (export
writes `<name>-attachments/<record id>/<file>`); reading the JSON from a path brings them back as
the record's files: only from inside the JSON's folder, each and all together at most 256 MiB,
anything else named as not imported.
"""

from __future__ import annotations

from typing import IO, Any

from ..errors import FormatError, InvalidInputError
from ..records import Field, HistoryEntry, Record, normalize_tags
from ..templates import TEMPLATES, FieldKind
from .common import MAX_JSON_BYTES, ImportReport, load_json, source

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
    if rid.startswith("device-"):  # the device list's entries (vault/devices.py)
        raise ValueError("ids starting 'device-' are reserved for the account's device list")
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
    budget = MAX_JSON_BYTES
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
        if report.records and report.records[-1] is rec and obj.get("attachments"):
            budget = _files(obj["attachments"], rec.id, report, where, budget)
    return report


def _files(entries: Any, rid: str, report: ImportReport, where: str, budget: int) -> int:
    """The files a record's `attachments` name, read from beside the JSON into report.files;
    returns the bytes still allowed for the export's files together."""
    for entry in entries if isinstance(entries, list) else [entries]:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            report.lose(where, "attachment", "an attachment without a name; not imported")
            continue
        got = _beside(entry.get("file"), budget)
        if isinstance(got, str):
            report.lose(
                where,
                "attachment",
                f"attachment {name[:60]!r} is not imported ({got}); the rest of the record is",
            )
            continue
        budget -= len(got)
        report.files.setdefault(rid, []).append((name, got))
    return budget


def _beside(rel: Any, budget: int) -> bytes | str:
    """The bytes of the file `rel` names beside the JSON being read, or why there are none."""
    if not isinstance(rel, str) or not rel:
        return "the exporting device did not have its bytes"
    json_path = source()
    if json_path is None:
        return "the export was not read from a file, so the files beside it cannot be found"
    folder = json_path.resolve().parent
    path = (folder / rel).resolve()
    if not path.is_relative_to(folder) or path == folder:
        return "its path leads out of the export's folder"
    from ..attachstore import open_regular

    try:
        with open_regular(path) as f:  # a FIFO beside the export would wait forever
            data = f.read(min(budget, MAX_JSON_BYTES) + 1)
    except FileNotFoundError:
        return f"{rel} is not beside the export"
    except OSError as exc:
        return f"{rel} cannot be read ({exc.strerror or exc})"
    except InvalidInputError:
        return f"{rel} is not a regular file"
    if len(data) > min(budget, MAX_JSON_BYTES):
        return "the export's files pass 256 MiB together; add it afterwards with attach add"
    return data
