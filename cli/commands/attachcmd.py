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
        "rm", help="remove a file from a record", description="Remove a file from a record."
    )
    p.add_argument("query", metavar="QUERY")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_rm)


def attachment_json(a: Attachment, here: bool) -> dict[str, Any]:
    from vault.records import iso

    return {"id": a.id, "name": a.name, "size": a.size, "added": iso(a.added), "on_device": here}


def cmd_add(args: argparse.Namespace, ctx: Context) -> int:
    from vault import attachstore

    path = Path(args.file).expanduser()
    if path.is_dir():
        raise CliError(f"strongroom: {args.file} is a folder; give a file", EXIT_USAGE)
    vault = ctx.unlocked_vault()
    att = attachstore.add(vault, vault.find(args.query), path, args.name)
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
        if out.is_dir():
            raise CliError(f"strongroom: {args.output} is a folder; give a file name", EXIT_USAGE)
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
