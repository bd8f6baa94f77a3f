"""`strongroom attach add|ls|get|rm`: a record's files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.safe_text import printable

from ..invocation import EXIT_OK, EXIT_USAGE, CliError, Context

if TYPE_CHECKING:
    from vault.attachments import Attachment


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    top = sub.add_parser(
        "attach",
        help="a record's files: add, ls, get, rm",
        description="Files kept with a record, encrypted (each under its own key) and synced "
        "with it. QUERY is a record id or part of a title; NAME a file's name or id.",
    )
    verbs = top.add_subparsers(dest="verb", metavar="VERB", required=True)
    p = verbs.add_parser("add", help="add a file to a record", description="Add a file.")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--name", metavar="NAME", help="store it under this name (default: FILE's)")
    p.set_defaults(func=cmd_add)

    p = verbs.add_parser("ls", help="list a record's files", description="List a record's files.")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--json", action="store_true", help="one JSON array on stdout")
    p.set_defaults(func=cmd_ls)

    p = verbs.add_parser(
        "get",
        help="write a file to -o OUT, or to stdout when it is not a terminal",
        description="Write a file's bytes to OUT, or to stdout when stdout is a pipe or a "
        "redirection (never onto a terminal).",
    )
    p.add_argument("query", metavar="QUERY")
    p.add_argument("name", metavar="NAME")
    p.add_argument("-o", "--output", metavar="OUT", help="write to this file (made 0600)")
    p.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    p.set_defaults(func=cmd_get)

    p = verbs.add_parser(
        "rm",
        help="remove a file from a record",
        description="Remove a file from a record. Its bytes leave this device once no version "
        "kept here names it (the record's history keeps it until the retention prunes that "
        "version); a sync folder's or the account server's copy stays for other devices.",
    )
    p.add_argument("query", metavar="QUERY")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_rm)

    p = verbs.add_parser(
        "settings",
        help="show or set the size limits of files",
        description="Show or set this device's file sizes: --fetch-mb N: files up to N MiB come "
        "down with every sync, larger ones only when first asked for (attach get, the app's "
        "save or open; 0 = always on first ask); --max-mb N: the largest file that may be "
        "added or imported here (the account server has its own limit per account).",
    )
    p.add_argument("--fetch-mb", type=int, metavar="N", help="download files up to N MiB at once")
    p.add_argument("--max-mb", type=int, metavar="N", help="refuse files over N MiB")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_settings)


def attachment_json(a: Attachment, here: bool) -> dict[str, Any]:
    from vault.records import iso

    return {"id": a.id, "name": a.name, "size": a.size, "added": iso(a.added), "on_device": here}


def cmd_add(args: argparse.Namespace, ctx: Context) -> int:
    from sync.blobsync import add_file

    path = Path(args.file).expanduser()
    if path.is_dir():
        raise CliError(f"strongroom: {args.file} is a folder; give a file", EXIT_USAGE)
    vault = ctx.unlocked_vault()
    att = add_file(vault, vault.find(args.query), path, args.name)
    print(f"added {printable(att.name)} ({att.size} bytes, id {att.id})")
    return EXIT_OK


def cmd_ls(args: argparse.Namespace, ctx: Context) -> int:
    from vault import attachstore

    vault = ctx.unlocked_vault()
    files = attachstore.listed(vault, vault.find(args.query))
    if args.json:
        ctx.print_json([attachment_json(a, attachstore.present(vault, a)) for a in files])
        return EXIT_OK
    for a in files:
        where = "" if attachstore.present(vault, a) else "  (not on this device yet)"
        print(f"{printable(a.name)}  {a.size} bytes  {a.id}{where}")
    return EXIT_OK


def cmd_get(args: argparse.Namespace, ctx: Context) -> int:
    from sync.blobsync import fetch_if_missing
    from vault import attachstore

    if args.output is None and sys.stdout.isatty():
        raise CliError(
            "strongroom: attach get writes the file's bytes to stdout, which is a terminal here; "
            "give -o OUT or redirect it (> FILE, | COMMAND)",
            EXIT_USAGE,
        )
    out = Path(args.output).expanduser() if args.output else None
    if out is not None:
        from vault.export import check_target

        check_target(out)  # a folder, or a folder that is not there: said before the password
        if out.exists() and not args.force:
            raise CliError(
                f"strongroom: {args.output} exists; use --force to overwrite it", EXIT_USAGE
            )
    vault = ctx.unlocked_vault()
    att = attachstore.find(vault, vault.find(args.query), args.name)
    fetch_if_missing(vault, att)
    if out is not None:
        attachstore.save_to(vault, att, out)
        print(f"saved {printable(att.name)} to {printable(str(out))} ({att.size} bytes)")
        return EXIT_OK
    from ..output import exact_binary_stdout

    attachstore.read(vault, att, exact_binary_stdout())
    return EXIT_OK


def cmd_rm(args: argparse.Namespace, ctx: Context) -> int:
    from vault import attachstore

    vault = ctx.unlocked_vault()
    att = attachstore.remove(vault, vault.find(args.query), args.name)
    print(f"removed {printable(att.name)} ({att.id})")
    return EXIT_OK


def _mib(value: int | None, what: str) -> int | None:
    from vault.attachstore import HIGHEST_MAX_MB

    if value is not None and not 0 <= value <= HIGHEST_MAX_MB:
        raise CliError(f"strongroom: {what} must be from 0 to {HIGHEST_MAX_MB} (MiB)", EXIT_USAGE)
    return value


def cmd_settings(args: argparse.Namespace, ctx: Context) -> int:
    """Set the given sizes (vault settings), then show both."""
    from sync.blobsync import fetch_mb
    from vault.attachstore import max_mb

    wanted = {
        "attachment_auto_mb": _mib(args.fetch_mb, "--fetch-mb"),
        "attachment_max_mb": _mib(args.max_mb, "--max-mb"),
    }
    vault = ctx.unlocked_vault()
    if any(v is not None for v in wanted.values()):
        vault.update_settings(**{k: v for k, v in wanted.items() if v is not None})
    fetch, largest = fetch_mb(vault), max_mb(vault)
    if args.json:
        ctx.print_json({"fetch_mb": fetch, "max_mb": largest})
        return EXIT_OK
    print(
        f"Download: files up to {fetch} MiB with every sync, larger ones when first asked for"
        if fetch
        else "Download: every file when first asked for (attach get, the app's save or open)"
    )
    print(f"Largest file added or imported here: {largest} MiB")
    return EXIT_OK
