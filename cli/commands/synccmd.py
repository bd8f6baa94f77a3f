"""Sync commands: `sync folder|none|now|status|serve` and `signin` (link a new device)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from vault.words import plural

from ..invocation import EXIT_OK, EXIT_USAGE, CliError, Context
from .common import add_transport_flags, transport_of

if TYPE_CHECKING:
    from runtime.account import SignIn, Source


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "signin",
        help="link this device to an existing account (Kit + password + a sync source)",
        description="Link a new device: email, Account Password, the Kit (a PNG/JPG/PDF of its QR code, "
        "or its typed code) and where the vault comes from. With --folder, the Kit may be "
        "left out when a signed-in device saved the account key there "
        "(`sync folder DIR --store-key`).",
    )
    p.add_argument("--email", required=True, metavar="E")
    kit = p.add_mutually_exclusive_group()
    kit.add_argument(
        "--kit",
        metavar="FILE",
        help="the Kit as PNG/JPG/PDF or a text file with its code (its typed code works too; - "
        "reads it from stdin)",
    )
    kit.add_argument(
        "--code",
        metavar="CODE",
        help="the Kit's typed code (a Kit file's path works too); - reads it from stdin (after "
        "the --password-stdin line)",
    )
    kit.add_argument(
        "--reset-code",
        metavar="CODE",
        help="with --server, after an account reset: the setup code shown by the reset page; the new "
        "Account Password is chosen now (STRONGROOM_NEW_PASSWORD, the second --password-stdin "
        "line, or a prompt) and a new Kit is written; - reads the code from stdin (the last line)",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--folder", metavar="DIR", help="the Dropbox/iCloud/… folder holding <AccountID>/data.mssb"
    )
    src.add_argument("--server", metavar="URL", help="the account server")
    src.add_argument(
        "--wifi", action="store_true", help="a device of this account on the same network"
    )
    p.add_argument(
        "--interface", action="append", metavar="ADDR", help="with --wifi: address(es) to use"
    )
    p.add_argument(
        "--kit-dir",
        metavar="D",
        help="with --reset-code: where to write the new Kit (default: current folder; made if "
        "missing; never over a file: a taken name gets the next number, … (2).pdf)",
    )
    p.add_argument(
        "--hint", default="", metavar="H", help="with --reset-code: a hint for the new password"
    )
    add_transport_flags(p)
    p.set_defaults(func=cmd_signin)

    p = sub.add_parser(
        "sync",
        help="choose the sync method, sync now, show status, or serve",
        description="Sync: `sync folder DIR`, `sync wifi`, `sync cloud URL`, `sync none`, "
        "`sync now`, `sync status`, `sync serve`.",
    )
    ssub = p.add_subparsers(dest="sync_command", metavar="ACTION", required=True)
    f = ssub.add_parser(
        "folder",
        help="sync through <DIR>/<AccountID>/data.mssb (Dropbox, iCloud Drive, …)",
        description="Sync through <DIR>/<AccountID>/data.mssb. --store-key saves the Encrypted "
        "Account Key next to it (account.key) so that a new device signs in with the "
        "email and Account Password alone, without the Authentication Kit. Only the "
        "password opens it, but whoever can read the folder (the provider, or anyone "
        "who gets into that account) then holds everything needed to guess your "
        "password offline: the Kit no longer protects you. Off by default; "
        "--no-store-key deletes it.",
    )
    f.add_argument("dir", metavar="DIR")
    f.add_argument(
        "--store-key",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="save the Encrypted Account Key in the folder so a new device signs in with the password "
        "alone (no Kit); --no-store-key deletes it. The folder's provider can then try to guess "
        "your password offline. Without either flag the current choice stays (off by default).",
    )
    f.set_defaults(func=cmd_sync_folder)
    w = ssub.add_parser("wifi", help="sync with devices of this account on the same network")
    w.add_argument(
        "--interface", action="append", metavar="ADDR", help="address(es) to announce and listen on"
    )
    w.set_defaults(func=cmd_sync_wifi)
    c = ssub.add_parser(
        "cloud",
        help="sync through the account server at URL",
        description="Move this device's account to the account server at URL, as a 1Password or "
        "Bitwarden user moves a local vault into their account: if the server already "
        "holds this account (another device moved it first), this device signs in with "
        "its own keys and both sets of records are merged; if the server does not know "
        "the email, the account is created there with this device's keys (the same "
        "Account Key, Kit and password) and every record is uploaded. An email the "
        "server holds with other keys is refused (exit 3) and nothing is overwritten.",
    )
    c.add_argument("url", metavar="URL")
    add_transport_flags(c)
    c.set_defaults(func=cmd_sync_cloud)
    n = ssub.add_parser("none", help="local only")
    n.set_defaults(func=cmd_sync_none)
    now = ssub.add_parser("now", help="sync once with the chosen method")
    now.set_defaults(func=cmd_sync_now)
    st = ssub.add_parser(
        "status",
        help="method, last sync, pending changes, conflicts, refused versions",
        description="Method, last sync, changes not yet synced, records in conflict, and the "
        "versions this device refused to merge (forged, damaged or out of bounds), by source and "
        "why. While a refusal from the server is recorded, this device pushes its own good "
        "versions of those records again (at once, then once a day), so the server keeps them.",
    )
    st.add_argument("--json", action="store_true")
    st.add_argument(
        "--clear-refused",
        action="store_true",
        help="forget the refused versions recorded so far (once you have read about them): "
        "they are no longer counted, and this device stops pushing its versions of those "
        "records again; a version offered again is refused and counted anew",
    )
    st.set_defaults(func=cmd_sync_status)
    sv = ssub.add_parser(
        "serve",
        help="stay running: watch the folder / stay reachable / poll the server (Ctrl-C stops)",
    )
    sv.add_argument(
        "--interval",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="cloud sync: how often to sync with the server (default 30)",
    )
    sv.set_defaults(func=cmd_sync_serve)


def cmd_signin(args: argparse.Namespace, ctx: Context) -> int:
    """Input and output only: runtime/account.py decides, as for the app's sign-in screen."""
    from runtime.account import FolderSource, ServerSource, WifiSource, sign_in

    from .account import signup_password
    from .kitfiles import kit_dir_errors, note_kit_written
    from .remote import download_progress, server_errors

    ctx.secret_options(args, kit="--kit", code="--code", reset_code="--reset-code")
    if args.reset_code and not args.server:
        raise CliError(
            "strongroom: --reset-code needs --server URL (the server that reset the account)",
            EXIT_USAGE,
        )
    source: Source
    if args.folder:
        source = FolderSource(Path(args.folder).expanduser())
    elif args.server:
        source = ServerSource(args.server, args.reset_code or "", transport_of(args))
    else:
        source = WifiSource(tuple(args.interface or []))
    with kit_dir_errors():  # a bad Kit or folder is reported before the password is asked for
        plan = _prepare_signin(args, ctx, source)
    password = signup_password(ctx) if args.reset_code else ctx.password()
    with kit_dir_errors(), server_errors(args.server or ""):
        account = sign_in(plan, password, on_download=download_progress())
    note_kit_written(account.kit_files)
    vault = account.vault
    count = len(vault.summaries())
    print(
        f"Signed in to account {vault.slot.account_id} ({vault.slot.email}); {plural('record', count)} on this device.",
        file=sys.stderr,
    )
    if account.kept is not None:
        how = (
            f"bring them back with `strongroom backup restore {account.kept}` and your previous password"
            if account.kept.suffix == ".srbk"
            else "an encrypted copy of the old store, opened by your previous password"
        )
        print(
            f"What this device held before the reset is kept in {account.kept}: {how}.",
            file=sys.stderr,
        )
    return EXIT_OK


def _prepare_signin(args: argparse.Namespace, ctx: Context, source: Source) -> SignIn:
    """runtime's checks, in the terminal's words where they name what to type."""
    from runtime.account import KitNeededError, prepare_sign_in
    from vault.errors import AccountExistsError

    try:
        return prepare_sign_in(
            ctx.home,
            args.email,
            source,
            args.kit or args.code or "",
            kit_dir=args.kit_dir,
            hint=args.hint,
        )
    except AccountExistsError as exc:
        raise CliError(f"strongroom: {exc}; use another --home", EXIT_USAGE) from None
    except KitNeededError as exc:
        words = _KIT_NEEDED.get(exc.source, "{exc}").format(folder=args.folder, exc=exc)
        raise CliError(f"strongroom: {words}", EXIT_USAGE) from None


#: A missing Kit in the terminal's words (the flags to add), by source.
_KIT_NEEDED = {
    "folder": "the folder {folder} holds no saved account key, so your Authentication Kit is "
    "needed: add --kit FILE (a PNG/JPG/PDF of its QR code) or --code CODE. To sign in with the "
    "password alone, first run `strongroom sync folder DIR --store-key` on a signed-in device.",
    "wifi": "signing in over Wi-Fi needs your Authentication Kit (--kit FILE or --code CODE)",
    "server": "signing in on a server needs your Authentication Kit (--kit FILE or --code CODE), "
    "or --reset-code CODE after an account reset",
}


def cmd_sync_folder(args: argparse.Namespace, ctx: Context) -> int:
    from sync.folder import FolderSync
    from sync.method import configure, sync_now

    folder = Path(args.dir).expanduser().resolve()
    if not folder.is_dir():
        raise CliError(f"strongroom: the folder {folder} does not exist", EXIT_USAGE)
    vault = ctx.unlocked_vault()
    configure(vault, "folder", folder=str(folder))
    outcome = sync_now(vault)
    print(
        f"Syncing through {folder / vault.slot.account_id / 'data.mssb'}: {outcome.detail}.",
        file=sys.stderr,
    )
    if args.store_key is not None:
        FolderSync(vault, folder).save_account_key(args.store_key)
        if args.store_key:
            print(
                "The Encrypted Account Key is saved in the folder: a new device signs in with the email and "
                "password alone. Anyone who can read the folder can now try to guess your password offline; "
                "turn it off with --no-store-key.",
                file=sys.stderr,
            )
        else:
            print(
                "No account key is saved in the folder: new devices need the Authentication Kit.",
                file=sys.stderr,
            )
    return EXIT_OK


def push_password_change(vault: object) -> None:
    """After `passwd` on a folder device: write the new epoch (and re-save a saved account key) now,
    so the folder stops opening with the old password at once, not at the next sync."""
    from sync.errors import SyncError
    from sync.method import sync_now
    from vault.errors import VaultError

    try:
        sync_now(vault)
    except (SyncError, VaultError) as exc:
        print(
            f"The sync folder still carries the old password ({exc}); run `strongroom sync now` when it is "
            "reachable.",
            file=sys.stderr,
        )
        return
    print(
        "The sync folder now carries the new password; your other devices will ask for it.",
        file=sys.stderr,
    )


def cmd_sync_wifi(args: argparse.Namespace, ctx: Context) -> int:
    from sync.method import configure

    vault = ctx.unlocked_vault()
    configure(vault, "wifi", interfaces=args.interface or [])
    print(
        "Wi-Fi sync chosen; run `strongroom sync serve` (or keep the app open) to stay reachable.",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_sync_cloud(args: argparse.Namespace, ctx: Context) -> int:
    from sync.cloudlink import link_existing

    from .remote import download_progress, server_errors

    vault = ctx.unlocked_vault()
    url = args.url.rstrip("/")
    with server_errors(url):
        session = link_existing(vault, url, download_progress(), transport=transport_of(args))
    print(
        f"Cloud sync through {url} chosen: account {session.account_id} ({session.email}) is on the server "
        f"and in sync; `strongroom sync now` syncs again.",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_sync_none(args: argparse.Namespace, ctx: Context) -> int:
    from sync.method import configure

    vault = ctx.unlocked_vault()
    configure(vault, "none")
    print("This device now syncs with nothing (local only).", file=sys.stderr)
    return EXIT_OK


def cmd_sync_now(args: argparse.Namespace, ctx: Context) -> int:
    from sync.method import adopt_new_password, config, sync_now
    from vault.errors import EpochChangedError

    from .remote import download_progress, server_errors

    vault = ctx.unlocked_vault()
    url = str(config(vault).get("server") or "")
    with server_errors(url):
        try:
            outcome = sync_now(vault, download_progress())
        except EpochChangedError as refused:
            if getattr(refused, "refused_change", False):  # this device's own change came second
                print(f"strongroom: {refused}.", file=sys.stderr)
            new = _new_password_for_sync(ctx)
            adopt_new_password(vault, new, refused=refused)
            print(
                "Adopted the Account Password changed on another device; unlock with it from now on.",
                file=sys.stderr,
            )
            outcome = sync_now(vault, download_progress())
    print(f"Synced ({outcome.method}): {outcome.detail}.", file=sys.stderr)
    for title in outcome.kept_from_trash:
        print(
            f"Kept out of the trash: {title} was edited on one device while deleted on "
            "another; the edit is kept (`strongroom rm` deletes it again).",
            file=sys.stderr,
        )
    if outcome.purged:
        print(
            f"Purged {plural('record', outcome.purged)} past the trash's retention.",
            file=sys.stderr,
        )
    return EXIT_OK


def _new_password_for_sync(ctx: Context) -> str:
    """The password changed on another device: STRONGROOM_NEW_PASSWORD, the second --password-stdin
    line, or a prompt on a terminal; with none, exit 3 saying how to give it."""
    from ..invocation import EXIT_AUTH

    try:
        return ctx._secret(
            1,
            "STRONGROOM_NEW_PASSWORD",
            "The Account Password was changed on another device. New Account Password: ",
            "",
        )
    except CliError:
        raise CliError(
            "strongroom: the Account Password was changed on another device; run `strongroom sync now` "
            "again with the previous password as usual and the new one in STRONGROOM_NEW_PASSWORD (or "
            "the second --password-stdin line); nothing on this device was lost",
            EXIT_AUTH,
        ) from None


def cmd_sync_status(args: argparse.Namespace, ctx: Context) -> int:
    from sync.method import clear_refused, status

    vault = ctx.unlocked_vault()
    cleared = clear_refused(vault) if args.clear_refused else None
    st = status(vault)
    if args.json:
        ctx.print_json(st if cleared is None else st | {"cleared_refused": cleared})
        return EXIT_OK
    if cleared is not None:
        print(
            f"Forgot {plural('refused version', cleared)}; any offered again is refused and counted anew"
        )
    where = st["folder"] or st["server"] or ""
    print(f"Method: {st['method']}{' (' + where + ')' if where else ''}")
    print(f"Last sync: {st['last_sync'] or 'never'}")
    print(f"Changes not yet synced: {st['pending_changes']}")
    if st.get("account_key_in_folder") is not None:
        print(
            "Account key saved in the folder: "
            + (
                "yes (new devices sign in without the Kit)"
                if st["account_key_in_folder"]
                else "no (new devices need the Kit)"
            )
        )
    for problem in st.get("folder_problems") or []:
        print(f"Problem: {problem['file']}: {problem['reason']}; {problem['todo']}")
    for kept in st["kept_from_trash"]:
        print(f"Kept out of the trash (edited while deleted elsewhere): {kept['title']}")
    print(f"Records in conflict: {len(st['conflicts'])}")
    for c in st["conflicts"]:
        print(f"  {c['title']} ({c['id']})")
    print(f"Versions refused (not merged, nothing lost): {st['refused_versions']}")
    for r in st["refused"]:
        print(f"  {r['versions']} from {r['source']}: {r['reason']} (last {r['last']})")
    return EXIT_OK


def cmd_sync_serve(args: argparse.Namespace, ctx: Context) -> int:
    """The app's background sync runners, printed as lines (cli/commands/syncserve.py)."""
    from sync.method import config

    from .syncserve import serve

    vault = ctx.unlocked_vault()
    cfg = config(vault)
    if cfg["method"] not in ("folder", "wifi", "cloud"):
        raise CliError(
            f"strongroom: `sync serve` needs folder, Wi-Fi or cloud sync (chosen: {cfg['method']})",
            EXIT_USAGE,
        )
    if cfg["method"] == "cloud" and args.interval < 1:
        raise CliError("strongroom: --interval must be at least 1 second", EXIT_USAGE)
    return serve(vault, cfg, args.interval)
