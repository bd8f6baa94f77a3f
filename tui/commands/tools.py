"""Tools: generate, totp, audit."""

from __future__ import annotations

import argparse
import sys
import time

from ..context import EXIT_NO_MATCH, EXIT_OK, EXIT_USAGE, CliError, Context


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("generate", help="print a new password or passphrase",
                       description="Print a new random password (default 20 characters) or, with --words, a passphrase.")
    p.add_argument("--length", type=int, metavar="N", help="password length (4-128, default 20)")
    p.add_argument("--words", type=int, metavar="N", help="a passphrase of N words instead (3-20)")
    p.add_argument("--no-symbols", action="store_true", help="letters and digits only")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("totp", help="print the current TOTP code of a record")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--json", action="store_true", help='print {"code", "seconds_left"}')
    p.set_defaults(func=cmd_totp)

    p = sub.add_parser("audit", help="Security Center: weak, reused and old passwords")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_audit)


def cmd_generate(args: argparse.Namespace, ctx: Context) -> int:
    from vault.generator import generate_passphrase, generate_password

    if args.words is not None and args.length is not None:
        raise CliError("strongroom: give --length or --words, not both", EXIT_USAGE)
    if args.words is not None:
        print(generate_passphrase(args.words))
    else:
        print(generate_password(20 if args.length is None else args.length, symbols=not args.no_symbols))
    return EXIT_OK


def cmd_totp(args: argparse.Namespace, ctx: Context) -> int:
    from vault.templates import FieldKind
    from vault.totp import parse_totp, seconds_left, totp_code

    vault = ctx.unlocked_vault()
    rec = vault.record(vault.find(args.query))
    field = next((f for f in rec.fields if f.kind is FieldKind.TOTP and f.value), None)
    if field is None:
        print(f"strongroom: {rec.display_title!r} has no one-time password (TOTP) field", file=sys.stderr)
        return EXIT_NO_MATCH
    spec = parse_totp(field.value)
    at = time.time()
    code = totp_code(spec, at)
    if args.json:
        ctx.print_json({"code": code, "seconds_left": seconds_left(spec, at)})
    else:
        print(code)
    return EXIT_OK


def cmd_audit(args: argparse.Namespace, ctx: Context) -> int:
    from vault.audit import audit

    vault = ctx.unlocked_vault()
    records = [vault.record(s.id) for s in vault.summaries() if not s.error]
    report = audit(records, time.time())
    if args.json:
        ctx.print_json(report.to_json())
    else:
        print(report.to_text())
    return EXIT_OK
