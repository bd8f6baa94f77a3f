"""Record commands: ls, get, add, edit, rm."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from runtime.safe_text import printable
from vault.words import plural

from ..invocation import (
    EXIT_NO_MATCH,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    Context,
    secret_in_argv,
)
from ..output import write_value
from .common import parse_assignments, record_json, summary_json

if TYPE_CHECKING:
    from vault.records import Record

MASK = "••••••••"
FROM_STDIN = (
    "NAME=- reads the value from stdin, one line each, after the password line of "
    "--password-stdin (a hidden prompt on a terminal): a secret in the arguments is visible "
    "to every user of this computer"
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "ls",
        help="list records (title, type, username, id)",
        description="List records. QUERY filters by title (case-insensitive substring).",
    )
    p.add_argument("query", nargs="?", metavar="QUERY")
    p.add_argument(
        "--type", metavar="T", help="only records of this template (login, credit-card, …)"
    )
    p.add_argument("--tag", metavar="T", help="only records with this tag")
    p.add_argument("--favorites", action="store_true", help="only favourites")
    p.add_argument("--json", action="store_true", help="one JSON array on stdout")
    p.set_defaults(func=cmd_ls)

    p = sub.add_parser(
        "get",
        help="show one record, or one field's value alone",
        description="Show one record. QUERY is an id or part of a title.",
    )
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--field", metavar="NAME", help="print only this field's value (e.g. password)")
    p.add_argument("--reveal", action="store_true", help="show concealed values in the text view")
    p.add_argument(
        "--json", action="store_true", help="one JSON document on stdout (values included)"
    )
    p.set_defaults(func=cmd_get)

    p = sub.add_parser(
        "add",
        help="add a record of a template; prints its id",
        description="Add a record. TYPE is a template: login, credit-card, bank-account, "
        "email-account, identity, note, password, software-licence, wifi, passport, "
        "drivers-licence, membership, insurance, custom. A card's expiry is MM/YY or MM/YYYY "
        "(month 01-12, year up to 20 years ahead); a value that cannot be right (an expiry of "
        "13/99, a one-time password secret that is not base32) is refused with exit 2.",
    )
    p.add_argument("type", metavar="TYPE")
    p.add_argument("--title", required=True, metavar="T")
    p.add_argument(
        "--field",
        action="append",
        metavar="NAME=VALUE",
        help=f"a field value (repeatable); {FROM_STDIN}",
    )
    p.add_argument("--tag", action="append", metavar="T", help="a tag (repeatable)")
    p.add_argument("--notes", metavar="TEXT")
    p.add_argument("--favorite", action="store_true")
    p.add_argument(
        "--generate-password",
        action="store_true",
        help="fill the password field with a new password",
    )
    ssh = p.add_argument_group("ssh-key")
    ssh.add_argument("--generate", action="store_true", help="a new Ed25519 key")
    ssh.add_argument(
        "--private-key",
        metavar="FILE",
        help="import this OpenSSH private key file (- reads it from stdin); a passphrase is "
        "read from STRONGROOM_SSH_PASSPHRASE or asked on the terminal, never an argument",
    )
    ssh.add_argument("--comment", metavar="TEXT", help="the key's comment (default: the file's)")
    ssh.add_argument(
        "--ask",
        action="store_true",
        help="ask before each use: the SSH agent signs only after the open app allows it, and "
        "refuses when no app is open (later: edit T --field ask=yes|no)",
    )
    p.set_defaults(func=cmd_add)

    p = sub.add_parser(
        "edit",
        help="change fields of a record",
        description="Change a record. Values are checked as `add` checks them (exit 2).",
    )
    p.add_argument("query", metavar="QUERY")
    p.add_argument(
        "--field",
        action="append",
        metavar="NAME=VALUE",
        help=f"set a field (repeatable; empty value removes it); {FROM_STDIN}",
    )
    p.add_argument("--title", metavar="T")
    p.add_argument("--tag", action="append", metavar="T", help="replace the tags (repeatable)")
    p.add_argument("--notes", metavar="TEXT")
    fav = p.add_mutually_exclusive_group()
    fav.add_argument("--favorite", dest="favorite", action="store_const", const=True)
    fav.add_argument("--no-favorite", dest="favorite", action="store_const", const=False)
    p.add_argument(
        "--generate-password", action="store_true", help="replace the password with a new one"
    )
    p.set_defaults(func=cmd_edit)

    p = sub.add_parser(
        "rm",
        help="move a record to the trash (synced; `trash restore` brings it back)",
        description=(
            "Move a record to the trash. It leaves the list on every device and is purged after "
            "the trash's retention (default 30 days); `strongroom trash restore` brings it back."
        ),
    )
    p.add_argument("query", metavar="QUERY")
    p.set_defaults(func=cmd_rm)


def cmd_ls(args: argparse.Namespace, ctx: Context) -> int:
    from vault.templates import template

    vault = ctx.unlocked_vault()
    found = (
        vault.search_titles(args.query)
        if args.query and not (args.type or args.tag or args.favorites)
        else None
    )
    rows = found if found is not None else vault.summaries()
    if args.type:
        key = template(args.type).key
        rows = [s for s in rows if s.type == key]
    if args.tag:
        tag = args.tag.lower()
        rows = [s for s in rows if tag in (t.lower() for t in s.tags)]
    if args.favorites:
        rows = [s for s in rows if s.favorite]
    if args.query:
        q = args.query.lower()
        rows = [s for s in rows if q in s.title.lower() or s.id == args.query]
    rows.sort(key=lambda s: (s.title.lower(), s.id))
    if args.json:
        ctx.print_json([summary_json(s) for s in rows])
        return EXIT_OK
    titles = [printable(s.title) for s in rows]
    width = min(max(map(len, titles), default=5), 40)
    for s, title in zip(rows, titles, strict=True):
        flag = " (conflict)" if s.conflict else ""
        user = printable(s.username or "")
        print(f"{title:<{width}}  {s.type:<16}  {user:<24}  {s.id}{flag}")
    return EXIT_OK


def cmd_get(args: argparse.Namespace, ctx: Context) -> int:
    vault = ctx.unlocked_vault()
    detail = vault.detail(vault.find(args.query))
    rec = detail.record
    if args.field:
        from vault.refs import field_or_pseudo

        value = field_or_pseudo(rec, args.field)
        if value is None:
            names = ", ".join(f.name for f in rec.fields) or "none"
            print(
                f"strongroom: {rec.display_title!r} has no field {args.field!r} (its fields: {names})",
                file=sys.stderr,
            )
            return EXIT_NO_MATCH
        write_value(value)
        return EXIT_OK
    if args.json:
        ctx.print_json(record_json(rec, detail.conflict, detail.others, detail.kept_from_trash))
        return EXIT_OK
    from vault.templates import template

    tpl = template(rec.type)
    print(f"{printable(rec.display_title)}  ({tpl.label}, id {rec.id})")
    for f in rec.fields:
        spec = tpl.spec(f.name)
        label = spec.label if spec else f.name
        shown = MASK if tpl.conceals(f.name, f.kind) and not args.reveal and f.value else f.value
        print(f"  {printable(label)}: {printable(shown)}")
    if rec.tags:
        print(f"  Tags: {printable(', '.join(rec.tags))}")
    if rec.notes:
        print("  Notes: " + rec.notes.replace("\n", "\n         "))
    for a in rec.attachments:
        print(f"  File: {printable(a.name)} ({a.size} bytes)")
    _print_past_secrets(rec, args.reveal)
    if detail.kept_from_trash:
        print(
            "  Kept out of the trash: it was edited on one device while deleted on another; "
            "the edit is kept (`strongroom rm` deletes it again)"
        )
    if detail.conflict:
        print(f"  In conflict: {plural('other version', len(detail.others))} kept in history")
    if rec.versions:
        print(
            f"  History: {plural('previous version', len(rec.versions))} (`strongroom history {rec.id}`)"
        )
    return EXIT_OK


def _print_past_secrets(rec: Record, reveal: bool) -> None:
    """The password history: each replaced secret with the dates it was current (masked)."""
    from vault.history import past_secrets

    from .common import iso_or_none

    past = past_secrets(rec)
    if not past:
        return
    print("  Password history:")
    for p in past:
        shown = p.value if reveal else MASK
        since = iso_or_none(p.since or 0) or "?"
        print(f"    {printable(p.field)}: {printable(shown)}  {since} – {iso_or_none(p.until)}")


def _generated_password() -> str:
    from vault.generator import generate_password

    return str(generate_password())


def _field_values(ctx: Context, items: list[str] | None) -> dict[str, str]:
    """`--field NAME=VALUE` items, each `-` read from stdin; a secret given inline is warned about."""
    from vault.templates import TEMPLATES

    values = parse_assignments(items)
    concealed = {s.name for t in TEMPLATES.values() for s in t.fields if t.conceals(s.name, s.kind)}
    inline = [
        n for n, v in values.items() if v not in ("", "-") and (n in concealed or "password" in n)
    ]
    if inline:
        ctx.warnings.append(
            secret_in_argv(
                f"the {' and '.join(inline)} value",
                f"use --field {inline[0]}=- to read it from stdin",
            )
        )
    wanted = [name for name, value in values.items() if value == "-"]
    return values | dict(zip(wanted, ctx.stdin_values(wanted), strict=True))


def _check_private_key(value: str) -> None:
    """An SSH key record's private key set with --field must be one the agent can use: 'garbage'
    was stored and the SSH agent then left the key out of its list without a word. (The app's
    form takes a path or a protected key there and reads it itself.)"""
    from vault.errors import InvalidInputError, WrongPasswordError
    from vault.sshkeys import load_private

    try:
        load_private(value.encode(), None)
    except WrongPasswordError:
        raise InvalidInputError(
            "this private key is protected by a passphrase; add it with `strongroom add ssh-key "
            "--private-key FILE`, which asks for it once"
        ) from None


def _apply_fields(rec: Record, values: dict[str, str]) -> Record:
    """Set/remove fields; names must belong to the record's template (any name for `custom`)."""
    from dataclasses import replace

    from vault.fieldcheck import checked_value
    from vault.records import Field
    from vault.templates import FieldKind, template

    tpl = template(rec.type)
    fields = list(rec.fields)
    for name, value in values.items():
        spec = tpl.spec(name)
        if spec is None and tpl.key != "custom":
            allowed = ", ".join(s.name for s in tpl.fields) or "none (use --notes)"
            raise CliError(
                f"strongroom: a {tpl.label} has no field {name!r}; its fields: {allowed}",
                EXIT_USAGE,
            )
        kind = spec.kind if spec else (FieldKind.SECRET if "password" in name else FieldKind.TEXT)
        value = checked_value(tpl, name, kind, value)  # a TOTP secret, a card's expiry, ask
        if tpl.key == "ssh-key" and name.lower() == "private-key" and value:
            _check_private_key(value)
        idx = next((i for i, f in enumerate(fields) if f.name.lower() == name), None)
        if not value:
            if idx is not None:
                del fields[idx]
            continue
        new = Field(spec.name if spec else name, kind, value)
        if idx is None:
            fields.append(new)
        else:
            fields[idx] = new
    if tpl.fields:
        order = {s.name: i for i, s in enumerate(tpl.fields)}
        fields.sort(key=lambda f: order.get(f.name, len(order)))
    return replace(rec, fields=tuple(fields))


def cmd_add(args: argparse.Namespace, ctx: Context) -> int:
    from vault.records import new_record
    from vault.templates import template

    tpl = template(args.type)  # unknown template → exit 2 before asking for a password
    if tpl.key == "ssh-key":
        from .sshkey import add_ssh_key

        return add_ssh_key(args, ctx)
    if args.generate or args.private_key or args.comment or args.ask:
        raise CliError(
            "strongroom: --generate, --private-key, --comment and --ask are for add ssh-key",
            EXIT_USAGE,
        )
    values = _field_values(ctx, args.field)
    if args.generate_password:
        if tpl.spec("password") is None and tpl.key != "custom":
            raise CliError(
                f"strongroom: a {tpl.label} has no password field to generate", EXIT_USAGE
            )
        values["password"] = _generated_password()
    if not args.title.strip():
        raise CliError("strongroom: --title must not be empty", EXIT_USAGE)
    rec = new_record(
        tpl.key,
        args.title.strip(),
        notes=args.notes or "",
        tags=tuple(args.tag or ()),
        favorite=args.favorite,
    )
    rec = _apply_fields(rec, values)
    vault = ctx.unlocked_vault()
    vault.add(rec)
    print(rec.id)
    return EXIT_OK


def cmd_edit(args: argparse.Namespace, ctx: Context) -> int:
    from dataclasses import replace

    values = _field_values(ctx, args.field)
    if args.generate_password:
        values["password"] = _generated_password()
    if (
        not values
        and args.title is None
        and args.tag is None
        and args.notes is None
        and args.favorite is None
    ):
        raise CliError(
            "strongroom: nothing to change: give --field NAME=VALUE, --title, --tag, --notes or --favorite",
            EXIT_USAGE,
        )

    def change(rec: Record) -> Record:
        new = _apply_fields(rec, values)
        if args.title is not None:
            if not args.title.strip():
                raise CliError("strongroom: --title must not be empty", EXIT_USAGE)
            new = replace(new, title=args.title.strip())
        if args.tag is not None:
            new = replace(new, tags=tuple(args.tag))
        if args.notes is not None:
            new = replace(new, notes=args.notes)
        if args.favorite is not None:
            new = replace(new, favorite=args.favorite)
        return new

    vault = ctx.unlocked_vault()
    rec = vault.edit(vault.find(args.query), change)  # read to write in one transaction
    print(rec.id)
    return EXIT_OK


def cmd_rm(args: argparse.Namespace, ctx: Context) -> int:
    vault = ctx.unlocked_vault()
    rid = vault.find(args.query)
    rec = vault.trash(rid)
    print(
        f"moved {printable(rec.display_title)} ({rid}) to the trash "
        f"(`strongroom trash restore {rid}` brings it back)"
    )
    return EXIT_OK
