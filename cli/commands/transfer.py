"""`import [FORMAT] FILE` and `export --format csv|json FILE --yes`.

Import parses the whole file before asking for the password: a malformed file is refused
(exit 2) having touched nothing. Without FORMAT the file's contents choose it (the guess the
app makes), said before anything else; a file that could be several formats is refused with
them. Export writes plaintext, so it needs --yes.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import TYPE_CHECKING

from vault.words import plural

from ..invocation import EXIT_OK, EXIT_USAGE, CliError, Context

if TYPE_CHECKING:
    from vault.importers import ImportReport

IMPORT_FORMATS = [
    "strongroom-json",
    "msecure-csv",
    "1password-csv",
    "1password-1pux",
    "bitwarden-json",
    "bitwarden-csv",
    "keepass-csv",
    "keepass-xml",
    "keepass-kdbx",
    "chrome-csv",
    "firefox-csv",
    "lastpass-csv",
    "apple-csv",
    "nordpass-csv",
    "roboform-csv",
    "keeper-csv",
    "keeper-json",
    "dashlane-csv",
    "dashlane-json",
    "protonpass-json",
    "enpass-json",
    "1password-1pif",
    "pass",
]
SHOWN_PROBLEMS = 50
#: The password of a file locked with its own (a .kdbx, a password-protected Bitwarden export).
IMPORT_PASSWORD_ENV = "STRONGROOM_IMPORT_PASSWORD"


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
        "fields and notes) are not added again. A file locked with its own password (a "
        "KeePass .kdbx, a password-protected Bitwarden export) is opened with "
        f"{IMPORT_PASSWORD_ENV} or, on a terminal, a hidden prompt (never an argument); a "
        "wrong one is exit 3. pass reads a pass/gopass store's folder (FILE is the "
        "folder) through your own gpg: its agent asks for the key's passphrase, or give it "
        f"in {IMPORT_PASSWORD_ENV}.",
    )
    p.add_argument("format", metavar="FORMAT", nargs="?", choices=IMPORT_FORMATS)
    p.add_argument("file", metavar="FILE")
    p.add_argument(
        "--key-file",
        metavar="F",
        help="the key file of a KeePass database (with or without its password)",
    )
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


def _read_pipe(path: Path) -> bytes | None:
    """The whole of FILE when it is a pipe or a device (`import <(…)`, /dev/stdin): read once,
    since guessing the format and asking for a password read it again and a pipe gives its
    bytes only once (the guess used to eat the start: 'the file is empty'). None for a regular
    file or a folder, which are read in place. At most the largest export accepted."""
    from vault.importers.common import MAX_JSON_BYTES

    if path.is_dir() or path.is_file():
        return None
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_JSON_BYTES + 1)
    except OSError as exc:
        raise CliError(f"strongroom: cannot read {path}: {exc.strerror}", EXIT_USAGE) from None
    if len(data) > MAX_JSON_BYTES:
        raise CliError(
            f"strongroom: {path} gives more than {MAX_JSON_BYTES // 2**20} MiB: not an export",
            EXIT_USAGE,
        )
    return data


def guess(path: Path, piped: bytes | None = None) -> str:
    """The format of the file at `path` (or of the bytes `piped` from it) from its contents;
    CliError (exit 2) when unsure."""
    from vault.importers import LABELS
    from vault.importers.sniff import SNIFF_BYTES, candidates, path_candidates

    if not path.is_dir() and piped is None:
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise CliError(f"strongroom: cannot read {path}: {exc.strerror}", EXIT_USAGE) from None
    found = path_candidates(path) if piped is None else candidates(piped[:SNIFF_BYTES])
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


def _key_file(args: argparse.Namespace) -> bytes | None:
    from vault.importers.secret import MAX_KEY_FILE_BYTES

    if args.key_file is None:
        return None
    key = Path(args.key_file).expanduser()
    if key.is_dir():
        raise CliError(f"strongroom: the key file {key} is a folder", EXIT_USAGE)
    try:
        with open(key, "rb") as f:
            data = f.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise CliError(
            f"strongroom: cannot read the key file {key}: {exc.strerror}", EXIT_USAGE
        ) from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise CliError(f"strongroom: {key} is larger than 16 MiB: not a key file", EXIT_USAGE)
    return data


def _read_locked(
    fmt: str, path: Path, args: argparse.Namespace, ctx: Context, piped: bytes | None = None
) -> ImportReport:
    """Read the file; one locked with its own password is opened with the import password
    (environment, else a hidden prompt on a terminal). Nothing is imported on any refusal."""
    import sys

    from vault.errors import (
        FileSecretNeededError,
        FormatError,
        InvalidInputError,
        WrongFileSecretError,
    )
    from vault.importers import read_file, read_stream
    from vault.importers.registry import FOLDER_FORMATS
    from vault.importers.secret import FileSecret

    from ..invocation import EXIT_AUTH, env_secret, prompt_secret

    secret = FileSecret(env_secret(IMPORT_PASSWORD_ENV), _key_file(args))
    asked = False
    while True:
        try:
            if piped is None or fmt in FOLDER_FORMATS:
                return read_file(fmt, path, secret)
            return read_stream(fmt, io.BytesIO(piped), secret, path)
        except FileSecretNeededError as exc:
            can_ask = (
                not asked
                and secret.password is None
                and sys.stdin.isatty()
                and not ctx.password_stdin
            )
            if not can_ask:
                key = " (and --key-file F)" if exc.key_file and args.key_file is None else ""
                raise CliError(
                    f"strongroom: cannot import {path}: {exc}; give it in {IMPORT_PASSWORD_ENV}"
                    f"{key} or run in a terminal to be asked; nothing was imported",
                    EXIT_USAGE,
                ) from None
            asked = True
            secret = FileSecret(prompt_secret(f"Password of {path.name}: "), secret.key_file)
        except WrongFileSecretError as exc:
            raise CliError(
                f"strongroom: cannot import {path}: {exc}; nothing was imported", EXIT_AUTH
            ) from None
        except (FormatError, InvalidInputError) as exc:
            raise CliError(
                f"strongroom: cannot import {path}: {exc}; nothing was imported", EXIT_USAGE
            ) from None


def cmd_import(args: argparse.Namespace, ctx: Context) -> int:
    from vault.importers import LABELS, import_report
    from vault.importers.apply import plan
    from vault.importers.common import left_out, left_out_text
    from vault.importers.pass_store import is_store

    path = Path(args.file).expanduser()
    if not path.exists():
        raise CliError(f"strongroom: no file at {path}", EXIT_USAGE)
    fmt, guessed = args.format, args.format is None
    if path.is_dir() and fmt != "pass" and not (fmt is None and is_store(path)):
        raise CliError(
            f"strongroom: {path} is a folder; give the export file in it (FILE), or a pass "
            "store's folder (one with a .gpg-id file)",
            EXIT_USAGE,
        )
    piped = _read_pipe(path)
    if fmt is None:
        fmt = guess(path, piped)
        if not args.json:
            print(
                f"Reading {path.name} as {LABELS.get(fmt, fmt)} ({fmt}), guessed from its "
                "contents; give FORMAT to choose another."
            )
    report = _read_locked(fmt, path, args, ctx, piped)
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
        f"{verb} {plural('record', len(result.added))} from {path.name} ({fmt})"
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
    print(
        f"Exported {plural('record', len(records))} to stdout ({kind}, plain text).",
        file=sys.stderr,
    )
    if damaged:
        print(
            f"{plural('record', damaged)} could not be decrypted and "
            + ("was left out." if damaged == 1 else "were left out."),
            file=sys.stderr,
        )
    return EXIT_OK
