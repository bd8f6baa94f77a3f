"""Pieces several command areas share: `--field NAME=VALUE` parsing and the JSON shapes of CLI.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..invocation import EXIT_USAGE, CliError

if TYPE_CHECKING:
    from vault.index import Summary
    from vault.records import Record


def parse_assignments(items: list[str] | None) -> dict[str, str]:
    """`["username=ann", "url=https://x"]` → {"username": "ann", ...}; names lower-cased."""
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CliError(f"strongroom: --field expects NAME=VALUE, got {item!r}", EXIT_USAGE)
        out[name.strip().lower()] = value
    return out


def iso_or_none(ts: float) -> str | None:
    from vault.records import iso

    return iso(ts) if ts else None


def summary_json(s: Summary) -> dict[str, Any]:
    return {
        "id": s.id,
        "title": s.title,
        "type": s.type,
        "username": s.username,
        "url": s.url,
        "tags": list(s.tags),
        "favorite": s.favorite,
        "modified": iso_or_none(s.modified),
        "conflict": s.conflict,
    }


def _fields_json(fields: Any) -> list[dict[str, Any]]:
    return [{"name": f.name, "kind": f.kind.value, "value": f.value} for f in fields]


def record_json(r: Record, conflict: bool, others: tuple[Record, ...] = ()) -> dict[str, Any]:
    """`get --json`. While in conflict, the concurrent versions that did not win come first in
    `history` (marked `"conflicting": true`), so a script sees every value until it is resolved."""
    history = [
        {"modified": iso_or_none(o.modified), "fields": _fields_json(o.fields), "conflicting": True}
        for o in others
    ]
    history += [
        {
            "modified": iso_or_none(h.modified),
            "fields": _fields_json(h.fields),
            "conflicting": False,
        }
        for h in r.history
    ]
    return {
        "id": r.id,
        "title": r.display_title,
        "type": r.type,
        "fields": _fields_json(r.fields),
        "notes": r.notes,
        "tags": list(r.tags),
        "favorite": r.favorite,
        "created": iso_or_none(r.created),
        "modified": iso_or_none(r.modified),
        "conflict": conflict,
        "history": history,
    }
