"""History and trash commands: history, history restore, trash ls|restore|empty."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from runtime.safe_text import printable
from vault.words import plural

from ..invocation import EXIT_OK, EXIT_USAGE, CliError, Context
from .common import iso_or_none, summary_json

if TYPE_CHECKING:
    from vault.history import Step
    from vault.records import Record

MASK = "••••••••"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "history",
        help="a record's previous versions (history restore QUERY VERSION: bring one back)",
        description=(
            "List a record's kept versions, oldest first, the current one last: number, when, "
            "which device, what changed (secret values masked). `history restore QUERY VERSION` "
            "saves version VERSION (its number or id) as a new edit; nothing is lost."
        ),
    )
    p.add_argument(
        "query",
        metavar="QUERY",
        help="a record id or part of its title; or 'restore' or 'retention' (then use a "
        "record's id for a record of that title)",
    )
    p.add_argument("rest", nargs="*", metavar="ARG", help="after 'restore': QUERY VERSION")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--reveal", action="store_true", help="show secret values of each version")
    p.add_argument(
        "--versions",
        type=int,
        metavar="N",
        help="with 'retention': keep at most N previous versions of a record (0 = no limit)",
    )
    p.add_argument(
        "--days",
        type=int,
        metavar="D",
        help="with 'retention': keep previous versions D days (0 = no limit)",
    )
    p.set_defaults(func=cmd_history)

    p = sub.add_parser(
        "trash",
        help="deleted records: trash ls | restore QUERY | empty [--yes]",
        description=(
            "Records deleted with `rm` wait in the trash (synced) until its retention has passed "
            "(trash_days, default 30), then every device purges them. `trash ls` lists them, "
            "`trash restore QUERY` brings one back with its history, `trash empty --yes` purges "
            "them now."
        ),
    )
    tsub = p.add_subparsers(dest="trash_command", metavar="ACTION", required=True)
    q = tsub.add_parser("ls", help="list the records in the trash", description="List the trash.")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=cmd_trash_ls)
    q = tsub.add_parser(
        "restore", help="bring a record back", description="Bring a record back from the trash."
    )
    q.add_argument("query", metavar="QUERY")
    q.set_defaults(func=cmd_trash_restore)
    q = tsub.add_parser(
        "empty",
        help="purge every record in the trash",
        description="Purge every record in the trash on every device (a tombstone that syncs).",
    )
    q.add_argument("--yes", action="store_true", help="confirm: purged records cannot come back")
    q.set_defaults(func=cmd_trash_empty)
    q = tsub.add_parser(
        "retention",
        help="show or set how long the trash keeps records",
        description=(
            "Show the retention of the trash and of history (this device's settings; each "
            "device applies its own when it writes or syncs), or set the trash's: --days D "
            "(0 = until emptied)."
        ),
    )
    q.add_argument("--days", type=int, metavar="D", help="purge records D days after deletion")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=cmd_trash_retention)


def _device_word(device: str, here: str) -> str:
    return f"{device} (this device)" if device == here else device or "unknown device"


def _fields(rec: Record, reveal: bool) -> list[dict[str, Any]]:
    return [
        {
            "name": f.name,
            "kind": f.kind.value,
            "value": MASK if f.kind.concealed and f.value and not reveal else f.value,
        }
        for f in rec.fields
    ]


def step_json(step: Step, here: str, reveal: bool) -> dict[str, Any]:
    rec = step.record
    return {
        "version": step.number,
        "id": step.vid,
        "current": step.current,
        "modified": iso_or_none(step.modified),
        "device": step.device,
        "this_device": step.device == here,
        "changes": list(step.changes),
        "title": rec.display_title,
        "type": rec.type,
        "fields": _fields(rec, reveal),
        "notes": rec.notes,
        "tags": list(rec.tags),
        "favorite": rec.favorite,
        "trashed": iso_or_none(rec.trashed or 0),
    }


def _limit(value: int | None, what: str, high: int) -> int | None:
    if value is not None and not 0 <= value <= high:
        raise CliError(f"strongroom: {what} must be from 0 (no limit) to {high}", EXIT_USAGE)
    return value


def _retention(ctx: Context, as_json: bool, **changes: int | None) -> int:
    """Set the given retention values (vault settings), then show all of them."""
    vault = ctx.unlocked_vault()
    wanted = {k: v for k, v in changes.items() if v is not None}
    if wanted:
        vault.update_settings(**wanted)
    keep, days, trash = vault.retention()
    if as_json:
        ctx.print_json({"history_versions": keep, "history_days": days, "trash_days": trash})
        return EXIT_OK
    print(f"History: {f'{keep} previous versions' if keep else 'every previous version'}", end="")
    print(
        f", {f'for {days:g} days' if days else 'with no age limit'} (pruned when a version is written)"
    )
    print(f"Trash: {f'purged {trash:g} days after deletion' if trash else 'kept until emptied'}")
    return EXIT_OK


def cmd_trash_retention(args: argparse.Namespace, ctx: Context) -> int:
    return _retention(ctx, args.json, trash_days=_limit(args.days, "--days", 36500))


def cmd_history(args: argparse.Namespace, ctx: Context) -> int:
    if args.query == "retention" and not args.rest:
        return _retention(
            ctx,
            args.json,
            history_keep=_limit(args.versions, "--versions", 100000),
            history_days=_limit(args.days, "--days", 36500),
        )
    if args.versions is not None or args.days is not None:
        raise CliError("strongroom: --versions and --days go with `history retention`", EXIT_USAGE)
    if args.query == "restore":
        if len(args.rest) != 2:
            raise CliError(
                "strongroom: usage: strongroom history restore QUERY VERSION", EXIT_USAGE
            )
        return _restore(ctx, *args.rest)
    if args.rest:
        raise CliError(
            f"strongroom: history takes one QUERY (got {len(args.rest) + 1} words; quote a title "
            "with spaces)",
            EXIT_USAGE,
        )
    vault = ctx.unlocked_vault()
    rid = _find_any(vault, args.query)
    steps = vault.history(rid)
    if args.json:
        ctx.print_json([step_json(s, vault.device, args.reveal) for s in steps])
        return EXIT_OK
    print(
        f"{printable(steps[-1].record.display_title)}  (id {rid}): {plural('version', len(steps))}"
    )
    for s in steps:
        mark = "  (current)" if s.current else ""
        print(
            f"  {s.number:>3}  {iso_or_none(s.modified)}  {_device_word(s.device, vault.device)}"
            f"  [{s.vid}]{mark}"
        )
        for change in s.changes:
            print(f"         {printable(change)}")
        if args.reveal:
            for f in s.record.fields:
                if f.kind.concealed and f.value:
                    print(f"         {printable(f.name)} = {printable(f.value)}")
    return EXIT_OK


def _find_any(vault: Any, query: str) -> str:
    """A record in the list, else one in the trash (its history is kept there too)."""
    from vault.errors import NotFoundError

    try:
        return str(vault.find(query))
    except NotFoundError:
        pass
    try:
        return str(vault.find_trashed(query))
    except (
        NotFoundError
    ):  # it said 'nothing in the trash matches', as if only the trash was looked in
        raise NotFoundError(f"no record, in the list or in the trash, matches {query!r}") from None


def _restore(ctx: Context, query: str, version: str) -> int:
    vault = ctx.unlocked_vault()
    rid = _find_any(vault, query)
    step = next(
        (s for s in vault.history(rid) if version in (str(s.number), s.vid)),
        None,
    )
    if step is None:
        from vault.errors import NotFoundError

        raise NotFoundError(f"the record has no version {version!r} (see `strongroom history`)")
    if step.current:
        print(f"Version {step.number} is the current one; nothing to restore.", file=sys.stderr)
        return EXIT_OK
    rec = vault.restore_version(rid, step.vid)
    print(f"restored version {step.number} of {printable(rec.display_title)} ({rid}) as a new edit")
    return EXIT_OK


def cmd_trash_ls(args: argparse.Namespace, ctx: Context) -> int:
    vault = ctx.unlocked_vault()
    vault.purge_expired()
    rows = sorted(vault.trashed(), key=lambda s: -(s.trashed or 0))
    days = vault.retention()[2]
    if args.json:
        out = []
        for s in rows:
            row = summary_json(s)
            row["trashed"] = iso_or_none(s.trashed or 0)
            row["purge_after"] = iso_or_none((s.trashed or 0) + days * 86400) if days else None
            out.append(row)
        ctx.print_json(out)
        return EXIT_OK
    if not rows:
        print("The trash is empty.", file=sys.stderr)
        return EXIT_OK
    titles = [printable(s.title) for s in rows]
    width = min(max(map(len, titles), default=5), 40)
    for s, title in zip(rows, titles, strict=True):
        print(f"{title:<{width}}  {s.type:<16}  deleted {iso_or_none(s.trashed or 0)}  {s.id}")
    return EXIT_OK


def cmd_trash_restore(args: argparse.Namespace, ctx: Context) -> int:
    vault = ctx.unlocked_vault()
    rid = vault.find_trashed(args.query)
    rec = vault.untrash(rid)
    print(f"restored {printable(rec.display_title)} ({rid}) from the trash")
    return EXIT_OK


def cmd_trash_empty(args: argparse.Namespace, ctx: Context) -> int:
    if not args.yes:
        raise CliError(
            "strongroom: emptying the trash purges its records on every device for good; "
            "add --yes to confirm",
            EXIT_USAGE,
        )
    vault = ctx.unlocked_vault()
    gone = vault.empty_trash()
    print(f"purged {plural('record', len(gone))} from the trash")
    return EXIT_OK
