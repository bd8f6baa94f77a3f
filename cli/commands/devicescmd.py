"""`devices`: the account's devices (list), and removing one (`devices rm ID`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from runtime.safe_text import printable
from vault.words import plural

from ..invocation import EXIT_OK, Context
from .common import iso_or_none
from .kitfiles import kit_dir_errors, note_kit_written


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "devices",
        help="the account's devices: list, or rm ID to remove one",
        description="List the devices of the account this device knows of (each device's entry "
        "reaches the others when it syncs), oldest first; the one you ask on is marked. "
        "`devices rm ID` removes a lost or sold device: new Vault Key and Account Key (a new "
        "Kit is written; older Kits stop working), every record re-encrypted, and the new keys "
        "handed to every remaining device, which follow at their next sync with nothing to "
        "type. The removed device reads nothing written after. Needs the Account Password.",
    )
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=cmd_devices)
    dsub = p.add_subparsers(dest="devices_command", metavar="ACTION")
    q = dsub.add_parser(
        "rm",
        help="remove a device from the account; writes the new Kit",
        description="Remove device ID (as `strongroom devices` lists it) from the account. "
        "Works on an account synced through a folder or the account server (the change is "
        "published there first: if another device changed the keys first, nothing changes "
        "here; on the server it needs a fresh proof and revokes the device's sessions), then "
        "this device re-encrypts every record and sends them again; over Wi-Fi the other "
        "devices take the new keys from a peer that has them when they next sync.",
    )
    q.add_argument("id", metavar="ID", help="the device's id")
    q.add_argument(
        "--kit-dir",
        metavar="D",
        help="where to write the new Kit (default: current folder; made if missing; never over a file: "
        "a taken name gets the next number, … (2).pdf)",
    )
    q.add_argument("--json", action="store_true", help="print {removed, account_id, kit} as JSON")
    q.set_defaults(func=cmd_devices_rm)


def device_json(entry: Any, this: str) -> dict[str, Any]:
    return {
        "id": entry.id,
        "name": entry.name,
        "method": entry.method,
        "first_seen": iso_or_none(entry.first_seen),
        "last_seen": iso_or_none(entry.last_seen),
        "this_device": entry.id == this,
    }


def cmd_devices(args: argparse.Namespace, ctx: Context) -> int:
    from sync.method import config
    from vault import devices

    vault = ctx.unlocked_vault()
    devices.touch(vault, str(config(vault).get("method", "none")))
    rows = devices.entries(vault)
    if args.json:
        ctx.print_json([device_json(e, vault.device) for e in rows])
        return EXIT_OK
    names = [printable(e.name) for e in rows]
    width = min(max(map(len, names), default=4), 32)
    print(f"  {'ID':<8}  {'NAME':<{width}}  {'METHOD':<6}  {'FIRST SEEN':<20}  LAST SEEN")
    for e, name in zip(rows, names, strict=True):
        mark = "*" if e.id == vault.device else " "
        print(
            f"{mark} {e.id:<8}  {name:<{width}}  {e.method:<6}  "
            f"{iso_or_none(e.first_seen) or '-':<20}  {iso_or_none(e.last_seen) or '-'}"
        )
    return EXIT_OK


def cmd_devices_rm(args: argparse.Namespace, ctx: Context) -> int:
    from runtime.kitfiles import kit_folder, save_kit
    from sync.method import remove_device

    with kit_dir_errors():
        folder = kit_folder(args.kit_dir)
    password = ctx.password()
    vault = ctx.open_vault()
    vault.unlock(password)
    outcome = remove_device(vault, args.id, password)
    with kit_dir_errors():
        written = save_kit(outcome.slot, folder)
    if args.json:
        ctx.print_json(
            {
                "removed": args.id,
                "account_id": outcome.slot.account_id,
                "kit": [str(p) for p in written],
                "reencrypted": outcome.rekeyed,
            }
        )
    print(
        f"Device {args.id} was removed: {plural('version', outcome.rekeyed)} re-encrypted under a new "
        "Vault Key. Older Authentication Kits no longer work; your other devices follow at "
        "their next sync.",
        file=sys.stderr,
    )
    for note in outcome.notes:
        print(f"Note: {note}", file=sys.stderr)
    if not args.json:
        note_kit_written(written)
    return EXIT_OK
