"""Pieces several command areas share: `--field NAME=VALUE` parsing, the JSON shapes of CLI.md,
and the TLS flags of the commands that reach the account server."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..invocation import EXIT_USAGE, CliError

if TYPE_CHECKING:
    from sync.tls import Transport
    from vault.index import Summary
    from vault.records import Record


def add_transport_flags(p: argparse.ArgumentParser) -> None:
    """`--ca-file` and `--insecure-http` for signup, signin, reset and `sync cloud`."""
    p.add_argument(
        "--ca-file",
        metavar="FILE",
        help="also trust this CA certificate (PEM) for the server: your own CA or a self-signed "
        "certificate (or set STRONGROOM_CA_FILE); remembered with the server",
    )
    p.add_argument(
        "--insecure-http",
        action="store_true",
        help="allow a plain http:// server other than this machine (only on a network that is "
        "all yours: sign-in and records cross it unprotected); remembered with the server",
    )


def transport_of(args: argparse.Namespace) -> Transport:
    from pathlib import Path

    from sync.tls import Transport

    ca_file = getattr(args, "ca_file", None)
    return Transport(
        str(Path(ca_file).expanduser().resolve()) if ca_file else "",
        bool(getattr(args, "insecure_http", False)),
    )


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


def record_json(
    r: Record, conflict: bool, others: tuple[Record, ...] = (), kept_from_trash: bool = False
) -> dict[str, Any]:
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
        "attachments": [
            {"id": a.id, "name": a.name, "size": a.size, "added": iso_or_none(a.added)}
            for a in r.attachments
        ],
        "previous_versions": len(r.versions),
        "kept_from_trash": kept_from_trash,
    }
