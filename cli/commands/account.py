"""Account commands: signup, passwd, reset, lock."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ..invocation import EXIT_OK, EXIT_USAGE, CliError, Context, env_secret
from .common import add_transport_flags, transport_of
from .kitfiles import kit_dir_errors, note_kit_written


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "signup",
        help="create the account on this device and write the Authentication Kit",
        description="Create the account. The Account Password comes from STRONGROOM_NEW_PASSWORD "
        "(or STRONGROOM_PASSWORD), --password-stdin, or a prompt; it needs at least 8 characters "
        'and a zxcvbn rating of "strong" (score 3 of 4) or better. Prints the Account ID.',
    )
    p.add_argument("--email", required=True, metavar="E")
    p.add_argument(
        "--hint",
        default="",
        metavar="H",
        help="a password hint; with --server the server keeps it (readable there, never the password) "
        "so it can email it to you",
    )
    p.add_argument(
        "--kit-dir",
        metavar="D",
        help="where to write the Kit PNG and PDF (default: current folder; made if missing; never over "
        "a file: a taken name gets the next number, … (2).pdf)",
    )
    p.add_argument("--server", metavar="URL", help="create the account on this account server")
    add_transport_flags(p)
    p.add_argument("--json", action="store_true", help="print {account_id, email, kit} as JSON")
    p.set_defaults(func=cmd_signup)

    p = sub.add_parser(
        "passwd",
        help="change the Account Password; writes the new Kit",
        description="Change the Account Password: current password first (line 1 / "
        "STRONGROOM_PASSWORD), then the new one (line 2 / STRONGROOM_NEW_PASSWORD). "
        "The new one must pass the rules of signup. Every older Kit stops working.",
    )
    p.add_argument(
        "--kit-dir",
        metavar="D",
        help="where to write the new Kit (default: current folder; made if missing; the old Kit's "
        "files are kept: the new one is numbered, … (2).pdf)",
    )
    p.add_argument(
        "--hint",
        metavar="H",
        help="a new password hint on this device (default: keep the current "
        "one; the server keeps the hint given at sign-up)",
    )
    p.set_defaults(func=cmd_passwd)

    p = sub.add_parser(
        "reset",
        help="ask the account server for the account-reset email",
        description="Only for someone locked out of every device. Asks the server at URL to email "
        "a single-use reset link to E. The page behind the link explains what a reset "
        "wipes (every record in the cloud, the password, every older Kit) and keeps "
        "(the account and its plan), and asks for confirmation; it then shows a setup "
        "code for `strongroom signin --email E --server URL --reset-code CODE`, which "
        "chooses the new password. Devices that meet the reset keep their records as "
        "an encrypted backup file.",
    )
    p.add_argument("--email", required=True, metavar="E")
    p.add_argument("--server", required=True, metavar="URL", help="the account server")
    add_transport_flags(p)
    p.set_defaults(func=cmd_reset)

    p = sub.add_parser("lock", help="forget any unlocked state on this device")
    p.set_defaults(func=cmd_lock)


def signup_password(ctx: Context) -> str:
    """Sign-up takes the 'new password' channel, falling back to the plain one."""
    if ctx.password_stdin:
        line2 = ctx._stdin_line(1)
        return line2 if line2 is not None else ctx.password()
    for name in ("STRONGROOM_NEW_PASSWORD", "STRONGROOM_PASSWORD"):
        if (value := env_secret(name)) is not None:
            return value
    return ctx.new_password("Choose an Account Password: ")


def cmd_signup(args: argparse.Namespace, ctx: Context) -> int:
    from runtime.account import prepare_sign_up, sign_up

    from .remote import server_errors

    with kit_dir_errors(), another_home_hint():
        plan = prepare_sign_up(
            ctx.home,
            args.email,
            kit_dir=args.kit_dir,
            server=args.server or "",
            hint=args.hint,
            transport=transport_of(args),
        )
    password = signup_password(ctx)
    with kit_dir_errors(), server_errors(plan.server):
        account = sign_up(plan, password)
    slot = account.vault.slot
    if args.json:
        ctx.print_json(
            {
                "account_id": slot.account_id,
                "email": slot.email,
                "kit": [str(p) for p in account.kit_files],
            }
        )
    else:
        print(slot.account_id)
        note_kit_written(account.kit_files)
    return EXIT_OK


@contextmanager
def another_home_hint() -> Iterator[None]:
    """A device that already has an account: say how to keep a second one (another --home)."""
    from vault.errors import AccountExistsError

    try:
        yield
    except AccountExistsError as exc:
        raise CliError(
            f"strongroom: {exc}; use another --home for a second one", EXIT_USAGE
        ) from None


def cmd_passwd(args: argparse.Namespace, ctx: Context) -> int:
    """On a cloud device the server swaps the password first (one atomic operation), then this device."""
    from runtime.account import check_new_password
    from runtime.kitfiles import kit_folder, save_kit
    from sync.method import change_password, config

    from .remote import server_errors

    with kit_dir_errors():
        folder = kit_folder(args.kit_dir)
    vault = ctx.unlocked_vault()
    new = ctx.new_password()
    check_new_password(new)
    cfg = config(vault)
    with server_errors(str(cfg.get("server") or "")):
        slot = change_password(vault, new, args.hint)
    with kit_dir_errors():
        written = save_kit(slot, folder)
    print("Account Password changed. Older Authentication Kits no longer work.", file=sys.stderr)
    if cfg.get("method") == "cloud":
        print(
            "Your other devices will ask for the new password when they next sync.", file=sys.stderr
        )
    if cfg.get("method") == "folder":
        from .synccmd import push_password_change

        push_password_change(vault)
    note_kit_written(written)
    return EXIT_OK


def cmd_reset(args: argparse.Namespace, ctx: Context) -> int:
    from runtime.account import check_email
    from sync.cloud import CloudClient

    from .remote import server_errors

    email = check_email(args.email)
    url = args.server.rstrip("/")
    with server_errors(url), CloudClient(url, transport=transport_of(args)) as client:
        client.request_reset(email)
    print(
        f"If {email} has an account on {url}, a reset email is on its way. A reset wipes every record in the "
        "cloud and the password; use it only if no device of yours still opens (on one that does, change the "
        "password instead). The emailed link explains the rest; after you confirm, the page shows a setup "
        f"code: then run `strongroom signin --email {email} --server {url} --reset-code CODE`.",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_lock(args: argparse.Namespace, ctx: Context) -> int:
    try:
        from .agentcmd import forget_agent
    except ImportError:
        return EXIT_OK  # no agent built: nothing is kept unlocked between commands
    forget_agent(ctx)
    return EXIT_OK
