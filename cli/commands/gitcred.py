"""`git-credential get|store|erase`: git's credential helper answered from login records.

    git config credential.helper '!strongroom git-credential'

`get` answers from the login whose website matches (vault/gitcred.py); `store` and `erase`
change records only when this device allowed it (`git-credential --allow-writes on`, a setting
of the vault), since git calls them on its own after every sign-in and failure. Runs through the
unlock agent (git's request is forwarded to it), else asks for the password on the terminal.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..invocation import EXIT_OK, EXIT_USAGE, CliError, Context, read_stdin

if TYPE_CHECKING:
    from vault.gitcred import CredentialRequest
    from vault.records import Record
    from vault.vault import Vault

WRITES_SETTING = "git_credential_writes"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "git-credential",
        help="git's credential helper: answer git from login records",
        description="A git credential helper (git config credential.helper '!strongroom "
        "git-credential'). get prints username= and password= of the login whose website "
        "matches git's protocol, host (and port) and, when git sends one, path; nothing when none "
        "matches. store (save the login git used) and erase (remove its password, kept in the "
        "record's history) are refused unless --allow-writes on was set on this device.",
    )
    p.add_argument("action", nargs="?", choices=("get", "store", "erase"))
    p.add_argument(
        "--allow-writes",
        choices=("on", "off"),
        help="let git's store and erase change records on this device (default off)",
    )
    p.set_defaults(func=cmd_git_credential)


def _request(ctx: Context) -> CredentialRequest:
    from vault.gitcred import parse_request

    data = ctx.stdin_data if ctx.stdin_data is not None else read_stdin()
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise CliError(
            "strongroom: git's credential request is not UTF-8 text", EXIT_USAGE
        ) from None
    return parse_request(text)


def _unlocked(ctx: Context) -> Vault:
    """The vault: the agent's, else with the password from the environment or (git holds stdin)
    a prompt on the terminal; with neither, say how to unlock (exit 3)."""
    try:
        return ctx.unlocked_vault()
    except CliError:
        try:
            with open("/dev/tty"):
                pass
        except OSError:
            raise CliError(
                "strongroom: locked, and no terminal to ask for the password on: run "
                "`strongroom unlock` first",
                3,
            ) from None
    from ..invocation import prompt_secret

    vault = ctx.open_vault()
    vault.unlock(prompt_secret("Strongroom Account Password (for git): "))
    return vault


def cmd_git_credential(args: argparse.Namespace, ctx: Context) -> int:
    if args.allow_writes is not None:
        if args.action is not None:
            raise CliError("strongroom: give either an action or --allow-writes", EXIT_USAGE)
        vault = ctx.unlocked_vault()
        vault.update_settings(**{WRITES_SETTING: args.allow_writes == "on"})
        state = "may" if args.allow_writes == "on" else "may not"
        print(f"git's store and erase {state} change records on this device", file=sys.stderr)
        return EXIT_OK
    if args.action is None:
        raise CliError("strongroom: give get, store or erase (git does)", EXIT_USAGE)
    req = _request(ctx)
    vault = _unlocked(ctx)
    if args.action == "get":
        return _get(vault, req)
    if not vault.settings().get(WRITES_SETTING):
        raise CliError(
            f"strongroom: git-credential {args.action} is refused: this device does not let git "
            "change records (`strongroom git-credential --allow-writes on` to allow it)",
            EXIT_USAGE,
        )
    if args.action == "store":
        return _store(vault, req)
    return _erase(vault, req)


def _match(vault: Vault, req: CredentialRequest) -> str | None:
    from vault.gitcred import best_match

    return best_match(
        ((s.id, s.url or "", s.username or "") for s in vault.summaries() if not s.error), req
    )


def _get(vault: Vault, req: CredentialRequest) -> int:
    from vault.gitcred import answer

    from ..output import write_exact

    rid = _match(vault, req)
    if rid is None:
        return EXIT_OK  # git asks its next helper, or the user
    rec = vault.record(rid)
    write_exact(answer(rec.username or "", rec.value("password") or ""))
    return EXIT_OK


def _store(vault: Vault, req: CredentialRequest) -> int:
    from dataclasses import replace

    from vault.records import Field, new_record
    from vault.templates import FieldKind

    if not req.username or not req.password:
        return EXIT_OK
    rid = _match(vault, req)
    if rid is not None and vault.record(rid).username == req.username:
        if vault.record(rid).value("password") != req.password:

            def change(rec: Record) -> Record:
                kept = tuple(f for f in rec.fields if f.name != "password")
                new = Field("password", FieldKind.SECRET, req.password)
                return replace(rec, fields=(*kept, new))

            vault.edit(rid, change)
        return EXIT_OK
    path = f"/{req.path}" if req.path else ""
    url = f"{req.protocol}://{req.host}{path}"
    vault.add(
        new_record(
            "login", req.host, {"username": req.username, "password": req.password, "url": url}
        )
    )
    return EXIT_OK


def _erase(vault: Vault, req: CredentialRequest) -> int:
    from dataclasses import replace

    rid = _match(vault, req)
    if rid is None:
        return EXIT_OK
    if req.password and vault.record(rid).value("password") != req.password:
        return EXIT_OK  # git erases the credential that failed, not a newer one
    vault.edit(
        rid, lambda rec: replace(rec, fields=tuple(f for f in rec.fields if f.name != "password"))
    )
    return EXIT_OK
