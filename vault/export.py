"""Plaintext export: strongroom-json (exact, re-importable) or CSV (for people and spreadsheets).

The file is written owner-only (0600) from its first byte: a temporary file in the target's
folder, created 0600, then renamed over the target, so no other user ever sees a partial or
readable copy.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .durable import write_private_atomic
from .errors import FormatError, InvalidInputError, TamperError
from .importers.strongroom_json import FORMAT, VERSION, record_to_obj
from .merge import state
from .records import Record, iso
from .trash import kept_out
from .words import plural

if TYPE_CHECKING:
    from .vault import Vault

FORMATS = ("json", "csv")
CSV_COLUMNS = [
    "id",
    "type",
    "title",
    "username",
    "password",
    "url",
    "totp",
    "notes",
    "tags",
    "favorite",
    "created",
    "modified",
    "fields",
]
_MAIN = {"username", "password", "url", "totp"}


def _with_files(r: Record, files: Mapping[str, str]) -> dict[str, Any]:
    """The record's JSON object; with attachments, each one's name, size and the file written
    beside the JSON (relative to it; absent when its bytes were not on this device)."""
    obj = record_to_obj(r)
    if r.attachments:
        obj["attachments"] = [
            {"name": a.name, "size": a.size} | ({"file": files[a.id]} if a.id in files else {})
            for a in r.attachments
        ]
    return obj


def to_json(records: Iterable[Record], files: Mapping[str, str] | None = None) -> str:
    """The strongroom-json document (records sorted by title, then id), one record per line.

    Each record is encoded compactly by json's C encoder; `indent=` would switch every record to
    the pure-Python encoder, which was half of a 10,000-record export's time."""
    head = {
        "format": FORMAT,
        "version": VERSION,
        "exported": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    lines = [json.dumps(_with_files(r, files or {}), ensure_ascii=False) for r in _sorted(records)]
    body = "\n  " + ",\n  ".join(lines) + "\n " if lines else ""
    return f'{json.dumps(head, ensure_ascii=False)[:-1]},\n "records": [{body}]\n}}\n'


def to_csv(records: Iterable[Record]) -> str:
    """One row per record; fields beyond username/password/url/totp as `name: value` lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in _sorted(records):
        main = {
            low: f.value for f in reversed(r.fields) if (low := f.name.lower()) in _MAIN
        }  # the first one wins
        extra = "\n".join(f"{f.name}: {f.value}" for f in r.fields if f.name.lower() not in _MAIN)
        writer.writerow(
            [
                r.id,
                r.type,
                r.title,
                main.get("username") or "",
                main.get("password") or "",
                main.get("url") or "",
                main.get("totp") or "",
                r.notes,
                ", ".join(r.tags),
                "1" if r.favorite else "",
                iso(r.created),
                iso(r.modified),
                extra,
            ]
        )
    return out.getvalue()


def _sorted(records: Iterable[Record]) -> list[Record]:
    return sorted(records, key=lambda r: (r.title.casefold(), r.id))


def vault_records(vault: Vault) -> tuple[list[Record], int]:
    """Every record in the list (the version shown of each: not what is in the trash), and how
    many could not be decrypted."""
    out: list[Record] = []
    damaged = 0
    for rid, versions in vault.store.grouped().items():
        st = state(versions)
        if st.winner.deleted or rid.startswith("device-"):  # device entries are no records
            continue
        try:
            rec = vault.cipher.open(st.winner)
        except (TamperError, FormatError):
            damaged += 1
            continue
        if rec is not None and rec.trashed is not None:  # an edit kept out of it is exported
            kept = kept_out(vault.cipher, st, rec)
            rec = kept[1] if kept is not None else None
        if rec is not None:
            out.append(rec)
    return out, damaged


def render(records: Iterable[Record], fmt: str) -> str:
    if fmt == "json":
        return to_json(records)
    if fmt == "csv":
        return to_csv(records)
    raise InvalidInputError(f"unknown export format {fmt!r}; choose csv or json")


def write_private(path: Path, data: str) -> Path:
    """Write `data` to `path` with mode 0600 (atomically replacing any file there)."""
    path = path.expanduser().absolute()
    if path.is_dir():
        raise InvalidInputError(f"{path} is a folder; give a file name")
    write_private_atomic(path, data.encode("utf-8"))
    return path


def export_records(records: Iterable[Record], fmt: str, path: Path) -> Path:
    """Render and write; returns the absolute path written."""
    return write_private(path, render(records, fmt))


@dataclass(frozen=True)
class ExportOutcome:
    """What an export wrote, and the sentence the CLI prints and the TUI notifies."""

    path: Path
    format: str
    count: int
    damaged: int
    files: int = 0  # attachments written beside the JSON
    files_missing: int = 0  # attachments whose bytes were not on this device

    def message(self) -> str:
        kind = "strongroom-json" if self.format == "json" else "CSV"
        text = (
            f"Exported {plural('record', self.count)} to {self.path} ({kind}, plain text, readable only by you). "
            "Delete it when you no longer need it."
        )
        if self.files:
            text += (
                f"\n{plural('attachment', self.files)} written in plain form to "
                f"{self.path.parent / (self.path.stem + '-attachments')}."
            )
        if self.files_missing:
            text += (
                f"\n{plural('attachment', self.files_missing)} "
                + ("is" if self.files_missing == 1 else "are")
                + " not on this device yet and left out (sync, or attach get, first)."
            )
        if self.damaged:
            text += f"\n{plural('record', self.damaged)} could not be decrypted and " + (
                "was left out." if self.damaged == 1 else "were left out."
            )
        return text


def check_target(path: Path, example: str = "") -> Path:
    """The absolute file to write, or InvalidInputError when it is a folder or its folder is missing.

    One check for every file written on request (export, backup, Kit): a folder given where a
    file is due is named as such, with `example` (a file name) to put inside it, if given.
    Whether an existing file may be replaced is the caller's question (CLI --force, TUI modal).
    """
    path = path.expanduser().absolute()
    if path.is_dir():
        inside = f", such as {path / example}" if example else ""
        raise InvalidInputError(f"{path} is a folder; give a file name{inside}")
    if not path.parent.is_dir():
        raise InvalidInputError(f"the folder {path.parent} does not exist")
    return path


def export_vault(vault: Vault, fmt: str, path: Path) -> ExportOutcome:
    """Every live record of `vault` to `path` (0600): one piece for `strongroom export` and the TUI."""
    target = check_target(path)
    if fmt not in FORMATS:  # refused before anything is decrypted
        raise InvalidInputError(f"unknown export format {fmt!r}; choose csv or json")
    records, damaged = vault_records(vault)
    if fmt == "json" and any(r.attachments for r in records):
        files, missing = export_files(vault, records, target)
        written = write_private(target, to_json(records, files))
        return ExportOutcome(written, fmt, len(records), damaged, len(files), missing)
    return ExportOutcome(export_records(records, fmt, target), fmt, len(records), damaged)


#: Bytes of a file name written beside an export: filesystems allow 255 and the temporary name it
#: is written under first adds 14; an attachment's name may be 255 characters (765 bytes).
MAX_NAME_BYTES = 200


def _disk_name(name: str, attachment_id: str, used: set[str]) -> str:
    """The file name for an attachment beside an export: its own name when free and short enough,
    else prefixed with its id's start (one of two files named alike) and, when still too long,
    shortened keeping its extension (a name of 200 '€' made the whole export fail: 'File name
    too long', the JSON never written)."""
    if name.lower() not in used and len(name.encode()) <= MAX_NAME_BYTES:
        return name
    candidate = f"{attachment_id[:8]}-{name}"
    raw = candidate.encode()
    if len(raw) <= MAX_NAME_BYTES:
        return candidate
    _, dot, ext = name.rpartition(".")
    suffix = f".{ext}" if dot and 0 < len(ext.encode()) <= 16 else ""
    budget = MAX_NAME_BYTES - len(suffix.encode())
    stem = raw[: len(raw) - len(suffix.encode())][:budget].decode("utf-8", "ignore")
    return stem + suffix


def export_files(vault: Vault, records: list[Record], target: Path) -> tuple[dict[str, str], int]:
    """Each attachment's bytes to `<target stem>-attachments/<record id>/<name>` (folders 0700,
    files 0600, each written whole or not at all); returns attachment id → path relative to the
    target's folder, and how many were left out because their bytes are not on this device."""
    from .attachstore import present, save_to

    root = target.parent / f"{target.stem}-attachments"
    files: dict[str, str] = {}
    missing = 0
    for r in records:
        used: set[str] = set()
        for a in r.attachments:
            if not present(vault, a):
                missing += 1
                continue
            name = _disk_name(a.name, a.id, used)
            used.add(name.lower())
            folder = root / r.id
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            save_to(vault, a, folder / name)
            files[a.id] = str((folder / name).relative_to(target.parent))
    return files, missing
