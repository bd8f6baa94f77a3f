"""`backup create [FILE]` / `backup list [DIR]` / `backup restore FILE`.

Without FILE, `create` writes into the backup folder the app uses (runtime/backups.py), and
`list` shows what that folder holds, as the app's settings screen does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vault.words import plural

from ..invocation import EXIT_OK, EXIT_USAGE, CliError, Context, env_secret, prompt_secret


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "backup",
        help="encrypted backup: create [FILE] / list [DIR] / restore FILE",
        description="Encrypted backups. A backup opens only with the Account Password in force "
        "when it was made (restore reads it from STRONGROOM_BACKUP_PASSWORD or a prompt; "
        "without either, the current password is tried).",
    )
    bsub = p.add_subparsers(dest="backup_command", metavar="ACTION", required=True)
    c = bsub.add_parser(
        "create",
        help="write an encrypted backup of every record to FILE (default: a new file in the "
        "backup folder the app uses)",
    )
    c.add_argument("file", metavar="FILE", nargs="?")
    c.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    c.set_defaults(func=cmd_create)
    ls = bsub.add_parser(
        "list",
        help="the backups in DIR (default: the backup folder the app uses), newest first; "
        "no password needed",
    )
    ls.add_argument("dir", metavar="DIR", nargs="?")
    ls.add_argument("--json", action="store_true", help="print [{path, created, records, problem}]")
    ls.set_defaults(func=cmd_list)
    r = bsub.add_parser(
        "restore",
        help="bring back records from FILE (deleted or missing ones return; newer edits are kept)",
    )
    r.add_argument("file", metavar="FILE")
    r.set_defaults(func=cmd_restore)


def cmd_create(args: argparse.Namespace, ctx: Context) -> int:
    from vault.backup import create_backup

    if args.file is None:
        return _create_in_backup_folder(ctx)
    from vault.errors import InvalidInputError
    from vault.export import check_target

    try:  # a folder is named as one before --force is suggested
        path = check_target(Path(args.file), "strongroom-backup.srbk")
    except InvalidInputError as exc:
        raise CliError(f"strongroom: {exc}", EXIT_USAGE) from None
    if path.exists() and not args.force:
        raise CliError(f"strongroom: {path} exists; use --force to overwrite it", EXIT_USAGE)
    vault = ctx.unlocked_vault()
    create_backup(vault, path)
    print(
        f"Backup written to {path} ({len(vault.summaries())} records). It opens with the current "
        "Account Password.",
        file=sys.stderr,
    )
    return EXIT_OK


def _create_in_backup_folder(ctx: Context) -> int:
    """A new file in the backup folder (as the app's "back up now"), never replacing one."""
    from runtime.backups import chosen_folder, write_backup

    vault = ctx.unlocked_vault()
    path, count = write_backup(vault, chosen_folder(vault))
    print(path)
    print(
        f"Backup written ({count} records). It opens with the current Account Password.",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    import time

    from runtime.backups import chosen_folder, list_backups

    folder = Path(args.dir).expanduser() if args.dir else chosen_folder(ctx.open_vault())
    entries = list_backups(folder)
    if args.json:
        ctx.print_json(
            [
                {
                    "path": str(e.path),
                    "created": e.created,
                    "records": e.count,
                    "problem": e.problem or None,
                }
                for e in entries
            ]
        )
        return EXIT_OK
    if not entries:
        print(f"No backups in {folder}.", file=sys.stderr)
    for e in entries:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.created))
        what = f"unreadable: {e.problem}" if e.problem else f"{e.count} records"
        print(f"{when}  {what}  {e.path}")
    return EXIT_OK


def _backup_password(ctx: Context, fallback: str) -> str:
    env = env_secret("STRONGROOM_BACKUP_PASSWORD")
    if env is not None:
        return env
    if sys.stdin.isatty() and not ctx.password_stdin:
        typed = prompt_secret("Password in force when the backup was made (Enter = current): ")
        return typed or fallback
    return fallback


def cmd_restore(args: argparse.Namespace, ctx: Context) -> int:
    from vault.backup import restore_backup, restore_into_new_home
    from vault.vault import Vault

    path = Path(args.file).expanduser()
    if path.is_dir():
        raise CliError(f"strongroom: {path} is a folder, not a backup file", EXIT_USAGE)
    if path.exists() and not path.is_file():  # it said 'no backup file at /dev/zero'
        raise CliError(
            f"strongroom: {path} is not a regular file (a pipe or a device); a backup is read "
            "twice (records, then files), so give the .srbk file itself",
            EXIT_USAGE,
        )
    if not path.is_file():
        raise CliError(f"strongroom: no backup file at {path}", EXIT_USAGE)
    if not Vault.exists(ctx.home):
        backup_password = env_secret("STRONGROOM_BACKUP_PASSWORD") or ctx.password(
            "Password in force when the backup was made: "
        )
        _, count = restore_into_new_home(ctx.home, path, backup_password)
        print(
            f"Restored {plural('record', count)} into a new vault at {ctx.home}.", file=sys.stderr
        )
        return EXIT_OK
    password = ctx.password()
    vault = ctx.open_vault()
    vault.unlock(password)
    report = restore_backup(vault, path, _backup_password(ctx, password))
    print(report.summary(), file=sys.stderr)
    return EXIT_OK
