"""`kit`: show, save or check the Authentication Kit."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..invocation import EXIT_OK, Context
from ..output import write_exact
from .kitfiles import note_kit_written


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "kit",
        help="the current Authentication Kit: save, print, draw, email or check",
        description="The current Authentication Kit. With no option, prints the typed code. "
        "`kit --check FILE` tells whether a Kit image or PDF is valid for this account now.",
    )
    p.add_argument("--png", metavar="F", help="save the QR code as a PNG")
    p.add_argument("--pdf", metavar="F", help="save the printable PDF page")
    p.add_argument("--code", action="store_true", help="print the typed code")
    p.add_argument("--terminal", action="store_true", help="draw the QR code in the terminal")
    p.add_argument(
        "--email",
        action="store_true",
        help="email the Kit to the account's address (SMTP from env STRONGROOM_SMTP, else saved in HOME/outbox)",
    )
    p.add_argument(
        "--check", metavar="FILE", help="check a Kit PNG/JPG/PDF against this account (exit 0 or 3)"
    )
    p.set_defaults(func=cmd_kit)


def cmd_kit(args: argparse.Namespace, ctx: Context) -> int:
    if args.check:
        return check_kit(Path(args.check).expanduser(), ctx)
    from runtime.kitfiles import write_kit

    vault = ctx.unlocked_vault()  # showing the Kit needs the password, as with the best peers
    slot = vault.slot
    written = write_kit(
        slot,
        Path(args.png).expanduser() if args.png else None,
        Path(args.pdf).expanduser() if args.pdf else None,
    )
    note_kit_written(written)
    if args.terminal:
        from vault.kitfile import render_terminal_ansi

        write_exact(render_terminal_ansi(slot.kit) + "\n")  # drawn on purpose: ANSI colours
    if args.email:
        from sync.mail.kit_email import send_kit_email

        smtp = os.environ.get("STRONGROOM_SMTP") or vault.settings().get("smtp")
        where = send_kit_email(slot, smtp, ctx.home / "outbox")
        print(f"Authentication Kit email {where}", file=sys.stderr)
    if args.code or not (args.png or args.pdf or args.terminal or args.email):
        print(slot.kit.to_typed_code())
    return EXIT_OK


def check_kit(path: Path, ctx: Context) -> int:
    """Exit 0 when FILE is this account's current Kit; else KitError (exit 3) with the reason."""
    from vault.errors import KitError, KitReason
    from vault.kitfile import read_kit_file
    from vault.removal import check_kit, history

    kit = read_kit_file(path)
    vault = ctx.open_vault()
    slot = vault.slot
    check_kit(kit, slot, history(vault), vault.key_changes())
    if kit.to_bytes() != slot.kit.to_bytes():
        raise KitError(KitReason.OUTDATED, "it does not match this account's current Kit")
    print(f"valid: the current Authentication Kit of account {slot.account_id} ({slot.email})")
    return EXIT_OK
