"""Tools: generate, totp, audit."""

from __future__ import annotations

import argparse
import sys
import time

from ..invocation import EXIT_NO_MATCH, EXIT_OK, EXIT_USAGE, CliError, Context


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "generate",
        help="print a new password or passphrase",
        description="Print a new random password (default 20 characters with upper- and lowercase "
        "letters, digits and symbols, at least one of each) or, with --words, a "
        "passphrase of words from the EFF list.",
    )
    pw = p.add_argument_group("password")
    pw.add_argument("--length", type=int, metavar="N", help="password length (4-128, default 20)")
    pw.add_argument(
        "--no-symbols", action="store_true", help="no symbols (letters and digits only)"
    )
    pw.add_argument("--no-digits", action="store_true", help="no digits")
    pw.add_argument("--no-uppercase", action="store_true", help="no uppercase letters")
    pw.add_argument(
        "--avoid-ambiguous",
        action="store_true",
        help="leave out look-alike characters (I l 1 O 0 o | ` ' \")",
    )
    pp = p.add_argument_group("passphrase")
    pp.add_argument("--words", type=int, metavar="N", help="a passphrase of N words instead (3-20)")
    pp.add_argument("--separator", metavar="TEXT", help="between the words (default -)")
    pp.add_argument("--capitalize", action="store_true", help="Capitalize Each Word")
    pp.add_argument("--add-digit", action="store_true", help="append one digit to one random word")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("totp", help="print the current TOTP code of a record")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--json", action="store_true", help='print {"code", "seconds_left"}')
    p.set_defaults(func=cmd_totp)

    p = sub.add_parser(
        "audit",
        help="Security Center: weak, reused, old and breached passwords",
        description="Check every password: weak, reused, old and, with --breaches, how often it "
        "was seen in known breaches according to a local copy of Have I Been Pwned's SHA-1 "
        "password file ('ordered by hash'; nothing is sent anywhere).",
    )
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--breaches",
        metavar="FILE",
        help="the Have I Been Pwned SHA-1 'ordered by hash' file (HASH:COUNT lines) to check against",
    )
    p.add_argument(
        "--remember",
        action="store_true",
        help="also use this --breaches file in the app's Security Center from now on",
    )
    p.set_defaults(func=cmd_audit)


_PASSWORD_ONLY = {
    "length": "--length",
    "no_symbols": "--no-symbols",
    "no_digits": "--no-digits",
    "no_uppercase": "--no-uppercase",
    "avoid_ambiguous": "--avoid-ambiguous",
}
_PASSPHRASE_ONLY = {
    "separator": "--separator",
    "capitalize": "--capitalize",
    "add_digit": "--add-digit",
}


def _given(args: argparse.Namespace, flags: dict[str, str]) -> list[str]:
    return [flag for dest, flag in flags.items() if getattr(args, dest) not in (None, False)]


def cmd_generate(args: argparse.Namespace, ctx: Context) -> int:
    from vault.generator import generate_passphrase, generate_password

    if args.words is not None:
        if wrong := _given(args, _PASSWORD_ONLY):
            raise CliError(
                f"strongroom: {', '.join(wrong)} applies to passwords, not to a passphrase (--words)",
                EXIT_USAGE,
            )
        separator = "-" if args.separator is None else args.separator
        if any(not ch.isprintable() for ch in separator):
            raise CliError(
                "strongroom: the --separator must be printable (no newline or tab)", EXIT_USAGE
            )
        print(
            generate_passphrase(
                args.words,
                separator=separator,
                capitalize=args.capitalize,
                add_digit=args.add_digit,
            )
        )
        return EXIT_OK
    if wrong := _given(args, _PASSPHRASE_ONLY):
        raise CliError(
            f"strongroom: {', '.join(wrong)} applies to a passphrase: add --words N", EXIT_USAGE
        )
    print(
        generate_password(
            20 if args.length is None else args.length,
            symbols=not args.no_symbols,
            digits=not args.no_digits,
            uppercase=not args.no_uppercase,
            avoid_ambiguous=args.avoid_ambiguous,
        )
    )
    return EXIT_OK


def cmd_totp(args: argparse.Namespace, ctx: Context) -> int:
    from vault.templates import FieldKind
    from vault.totp import parse_totp, seconds_left, totp_code

    vault = ctx.unlocked_vault()
    rec = vault.record(vault.find(args.query))
    field = next((f for f in rec.fields if f.kind is FieldKind.TOTP and f.value), None)
    if field is None:
        print(
            f"strongroom: {rec.display_title!r} has no one-time password (TOTP) field",
            file=sys.stderr,
        )
        return EXIT_NO_MATCH
    spec = parse_totp(field.value)
    at = time.time()
    code = totp_code(spec, at)
    if args.json:
        ctx.print_json({"code": code, "seconds_left": seconds_left(spec, at)})
    else:
        print(code)
    return EXIT_OK


BREACH_SETTING = "breach_file"


def cmd_audit(args: argparse.Namespace, ctx: Context) -> int:
    from pathlib import Path

    from vault.audit import audit
    from vault.breaches import BreachFile

    if args.remember and not args.breaches:
        raise CliError("strongroom: --remember needs --breaches FILE", EXIT_USAGE)
    breaches = BreachFile(Path(args.breaches).expanduser()) if args.breaches else None
    try:
        vault = ctx.unlocked_vault()
        records = [vault.record(s.id) for s in vault.summaries() if not s.error]
        report = audit(records, time.time(), breaches=breaches)
    finally:
        if breaches is not None:
            breaches.close()
    if args.remember and breaches is not None:
        vault.update_settings(**{BREACH_SETTING: str(breaches.path.resolve())})
    if args.json:
        ctx.print_json(report.to_json())
    else:
        print(report.to_text())
    return EXIT_OK
