"""`add ssh-key --title T --generate | --private-key FILE`: an SSH key record.

An imported key file is read and decrypted in the calling process (the passphrase from
STRONGROOM_SSH_PASSPHRASE or a prompt on this terminal, never an argument), then saved through
the unlock agent when one is unlocked (the key handed over on its private socket), else with the
password.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..invocation import EXIT_AUTH, EXIT_OK, EXIT_USAGE, CliError, Context, prompt_secret

PASSPHRASE_ENV = "STRONGROOM_SSH_PASSPHRASE"


def _key_file(args: argparse.Namespace, ctx: Context) -> bytes:
    from vault.sshkeys import MAX_KEY_FILE

    if args.private_key == "-":
        if ctx.stdin_data is not None:
            return ctx.stdin_data
        return sys.stdin.buffer.read(MAX_KEY_FILE + 1)
    path = Path(args.private_key).expanduser()
    if path.is_dir():
        raise CliError(f"strongroom: {path} is a folder, not a key file", EXIT_USAGE)
    with open(path, "rb") as f:
        return f.read(MAX_KEY_FILE + 1)


def _passphrase(ctx: Context, what: str) -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if value is not None:
        return value
    if not ctx.in_agent:
        try:
            with open("/dev/tty"):
                pass
            return prompt_secret(f"Passphrase for {what}: ")
        except OSError:
            pass
    raise CliError(
        f"strongroom: {what} is protected by a passphrase: set {PASSPHRASE_ENV} or run in a "
        "terminal",
        EXIT_AUTH,
    )


def _comment_of_pub(args: argparse.Namespace) -> str:
    """The comment of FILE.pub beside the key file (an encrypted key keeps its own hidden)."""
    if args.private_key in (None, "-"):
        return ""
    pub = Path(args.private_key).expanduser().with_name(Path(args.private_key).name + ".pub")
    try:
        parts = pub.read_text(encoding="utf-8").split(maxsplit=2)
    except (OSError, UnicodeDecodeError):
        return ""
    return parts[2].strip() if len(parts) == 3 else ""


def add_ssh_key(args: argparse.Namespace, ctx: Context) -> int:
    from vault.records import new_record
    from vault.sshkeys import generate_ed25519, import_private, needs_passphrase

    from ..viaagent import agent_output

    if bool(args.generate) == bool(args.private_key):
        raise CliError(
            "strongroom: give --generate (a new Ed25519 key) or --private-key FILE", EXIT_USAGE
        )
    if args.field or args.generate_password:
        raise CliError(
            "strongroom: an SSH key's fields come from the key: use --generate or --private-key",
            EXIT_USAGE,
        )
    title = args.title.strip()
    if not title:
        raise CliError("strongroom: --title must not be empty", EXIT_USAGE)
    if args.generate:
        key = generate_ed25519(args.comment or "")
    else:
        data = _key_file(args, ctx)
        what = "the key on stdin" if args.private_key == "-" else args.private_key
        passphrase = _passphrase(ctx, what) if needs_passphrase(data) else None
        key = import_private(data, passphrase, args.comment or _comment_of_pub(args))
        forward = ["add", "ssh-key", "--title", title, "--private-key", "-"]
        forward += ["--comment", key.comment] if key.comment else []
        forward += ["--ask"] if args.ask else []
        forward += [x for tag in args.tag or () for x in ("--tag", tag)]
        forward += ["--notes", args.notes] if args.notes else []
        forward += ["--favorite"] if args.favorite else []
        out = agent_output(ctx, forward, stdin=key.private_pem.encode())
        if out is not None:
            print(out.strip())
            return EXIT_OK
    values = {
        "private-key": key.private_pem,
        "public-key": key.public_line,
        "fingerprint": key.fingerprint,
        "comment": key.comment,
        "ask": "yes" if args.ask else "",
    }
    rec = new_record(
        "ssh-key",
        title,
        {k: v for k, v in values.items() if v},
        notes=args.notes or "",
        tags=tuple(args.tag or ()),
        favorite=args.favorite,
    )
    vault = ctx.unlocked_vault()
    vault.add(rec)
    print(rec.id)
    return EXIT_OK
