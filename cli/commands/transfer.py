"""`import [FORMAT] FILE` and `export --format csv|json FILE --yes`.

Import parses the whole file before asking for the password: a malformed file is refused
(exit 2) having touched nothing. Without FORMAT the file's contents choose it (the guess the
app makes), said before anything else; a file that could be several formats is refused with
them. Export writes plaintext, so it needs --yes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..invocation import EXIT_OK, EXIT_USAGE, CliError, Context

IMPORT_FORMATS = [
    "strongroom-json",
    "msecure-csv",
    "1password-csv",
    "1password-1pux",
    "bitwarden-json",
    "bitwarden-csv",
    "keepass-csv",
    "keepass-xml",
    "chrome-csv",
    "firefox-csv",
    "lastpass-csv",
    "apple-csv",
    "nordpass-csv",
    "roboform-csv",
    "keeper-csv",
]
SHOWN_PROBLEMS = 50


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "import",
        help="import another manager's export (or a strongroom-json export)",
        description="Import records from FILE. FORMAT: " + ", ".join(IMPORT_FORMATS) + "; "
        "without it the file's contents choose (said first; a file that could be "
        "several formats is refused, naming them). chrome-csv is also what Edge, Brave, "
        "Opera, Vivaldi and Google Password Manager write. Everything valid is added in "
        "one step; rows that cannot be read are listed with their line or item number, "
        "and anything not imported (attachments, passkeys, trashed items, unknown item "
        "types) is counted and named. Entries already in the vault (same type, title, "
        "fields and notes) are not added again.",
    )
    p.add_argument("format", metavar="FORMAT", nargs="?", choices=IMPORT_FORMATS)
    p.add_argument("file", metavar="FILE")
    p.add_argument(
        "--dry-run", action="store_true", help="show what would be imported; change nothing"
    )
    p.add_argument("--json", action="store_true", help="print the report as one JSON document")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "export",
        help="write every record to a plaintext file (needs --yes)",
        description="Export every record as plaintext: json (strongroom-json, re-importable "
        "exactly) or csv. The file is readable only by you (mode 0600), but anyone "
        "who gets it sees every password: delete it when done.",
    )
    p.add_argument(
        "--format", required=True, choices=["csv", "json"], help="csv or json (strongroom-json)"
    )
    p.add_argument(
        "file", metavar="FILE", help="the file to write; - writes to stdout (not a terminal)"
    )
    p.add_argument("--yes", action="store_true", help="confirm writing passwords in plain text")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(func=cmd_export)


def guess(path: Path) -> str:
    """The format of the file at `path` from its contents; CliError (exit 2) when unsure."""
    from vault.importers import LABELS
    from vault.importers.sniff import SNIFF_BYTES, candidates

    try:
        with open(path, "rb") as f:
            found = candidates(f.read(SNIFF_BYTES))
    except OSError as exc:
        raise CliError(f"strongroom: cannot read {path}: {exc.strerror}", EXIT_USAGE) from None
    if len(found) == 1:
        return found[0]
    if found:
        which = ", ".join(f"{f} ({LABELS.get(f, f)})" for f in found)
        raise CliError(
            f"strongroom: {path.name} could be any of: {which}; give the format: "
            f"strongroom import {found[0]} FILE",
            EXIT_USAGE,
        )
    raise CliError(
        f"strongroom: cannot tell which manager wrote {path.name}; give the format: "
        f"strongroom import FORMAT FILE (FORMAT: {', '.join(IMPORT_FORMATS)})",
        EXIT_USAGE,
    )


def cmd_import(args: argparse.Namespace, ctx: Context) -> int:
    from vault.errors import FormatError
    from vault.importers import LABELS, import_report, read_file
    from vault.importers.apply import plan
    from vault.importers.common import left_out, left_out_text

    path = Path(args.file).expanduser()
    if not path.exists():
        raise CliError(f"strongroom: no file at {path}", EXIT_USAGE)
    if path.is_dir():
        raise CliError(
            f"strongroom: {path} is a folder; give the export file in it (FILE)", EXIT_USAGE
        )
    fmt, guessed = args.format, args.format is None
    if fmt is None:
        fmt = guess(path)
        if not args.json:
            print(
                f"Reading {path.name} as {LABELS.get(fmt, fmt)} ({fmt}), guessed from its "
                "contents; give FORMAT to choose another."
            )
    try:
        report = read_file(fmt, path)
    except FormatError as exc:
        raise CliError(
            f"strongroom: cannot import {path}: {exc}; nothing was imported", EXIT_USAGE
        ) from None
    vault = ctx.unlocked_vault()
    result = plan(vault, report) if args.dry_run else import_report(vault, report)
    counts: dict[str, int] = {}
    for r in result.added:
        counts[r.type] = counts.get(r.type, 0) + 1
    if args.json:
        ctx.print_json(
            {
                "format": report.format,
                "guessed": guessed,
                "dry_run": args.dry_run,
                "imported": len(result.added),
                "types": dict(sorted(counts.items())),
                "duplicates": [{"where": p.where, "reason": p.reason} for p in result.duplicates],
                "not_imported": left_out(result.problems),
                "problems": [
                    {"where": p.where, "reason": p.reason, "skipped": p.skipped, "lost": p.lost}
                    for p in result.problems
                ],
            }
        )
        return EXIT_OK
    verb = "Would import" if args.dry_run else "Imported"
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
    print(
        f"{verb} {len(result.added)} record(s) from {path.name} ({fmt})"
        + (f": {kinds}" if kinds else "")
    )
    if result.duplicates:
        print(
            f"{len(result.duplicates)} already in the vault or repeated in the file, not added again."
        )
    lost = left_out_text(result.problems)
    if lost:
        print(f"Not imported: {lost} (each is listed below).")
    skipped = [p for p in result.problems if p.skipped]
    noted = [p for p in result.problems if not p.skipped]
    if skipped:
        print(f"{len(skipped)} skipped:")
        for p in skipped[:SHOWN_PROBLEMS]:
            print(f"  {p.where}: {p.reason}")
    if noted:
        print(f"{len(noted)} imported with a caveat:")
        for p in noted[:SHOWN_PROBLEMS]:
            print(f"  {p.where}: {p.reason}")
    if len(skipped) > SHOWN_PROBLEMS or len(noted) > SHOWN_PROBLEMS:
        print("  … (use --json for the full list)")
    return EXIT_OK


def cmd_export(args: argparse.Namespace, ctx: Context) -> int:
    from vault.errors import InvalidInputError
    from vault.export import check_target, export_vault

    if not args.yes:
        raise CliError(
            "strongroom: export writes every password in plain text; add --yes to confirm",
            EXIT_USAGE,
        )
    if args.file == "-":
        return _export_to_stdout(args, ctx)
    path = Path(args.file).expanduser()
    try:
        target = check_target(path)
    except InvalidInputError as exc:
        raise CliError(f"strongroom: {exc}", EXIT_USAGE) from None
    if target.exists() and not args.force:
        raise CliError(f"strongroom: {path} exists; use --force to overwrite it", EXIT_USAGE)
    print(export_vault(ctx.unlocked_vault(), args.format, target).message())
    return EXIT_OK


def _export_to_stdout(args: argparse.Namespace, ctx: Context) -> int:
    """`export … -`: the document on stdout for a pipe or a redirection, never onto a terminal
    (where it would stay in the scrollback); the summary goes to stderr."""
    import sys

    from vault.export import render, vault_records

    from ..output import write_exact

    if sys.stdout.isatty():
        raise CliError(
            "strongroom: export - writes every password to stdout, which is a terminal here; "
            "redirect it (> FILE, | COMMAND) or give a file name",
            EXIT_USAGE,
        )
    records, damaged = vault_records(ctx.unlocked_vault())
    write_exact(render(records, args.format))
    kind = "strongroom-json" if args.format == "json" else "CSV"
    print(f"Exported {len(records)} record(s) to stdout ({kind}, plain text).", file=sys.stderr)
    if damaged:
        print(f"{damaged} record(s) could not be decrypted and were left out.", file=sys.stderr)
    return EXIT_OK
