"""Secrets into programs without files: `read REF`, `run -- CMD…`, `inject -i T -o F`.

References (`sr://RECORD/FIELD`) are described in vault/refs.py and the README. `read` runs
through the unlock agent like `get`; `run` and `inject` run here and take the values from the
agent (cli/viaagent.py), or ask for the password when none is unlocked.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from vault.words import plural

from ..invocation import EXIT_OK, EXIT_USAGE, CliError, Context
from ..output import write_value

if TYPE_CHECKING:
    import subprocess

REFS = (
    "A reference is sr://RECORD/FIELD: RECORD is a record's id or exact title (a / in a title "
    "is written %2F, a % as %25), FIELD a field name or title, notes, tags, type, id."
)
#: Never handed to the program `run` starts: they unlock the whole vault.
_OWN_SECRETS = (
    "STRONGROOM_PASSWORD",
    "STRONGROOM_NEW_PASSWORD",
    "STRONGROOM_BACKUP_PASSWORD",
    "STRONGROOM_SSH_PASSPHRASE",
)
#: The largest template or env file read (a config file is kilobytes; /dev/zero is endless).
MAX_TEXT_FILE = 16 * 2**20


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "read",
        help="print the value a secret reference (sr://RECORD/FIELD) names",
        description=f"Print the value of a secret reference. {REFS} With several references, "
        "one value per line; --json prints an object of value by reference.",
    )
    p.add_argument("refs", nargs="+", metavar="REF")
    p.add_argument("--json", action="store_true", help="one JSON object: value by reference")
    p.set_defaults(func=cmd_read)

    p = sub.add_parser(
        "run",
        help="run a program with references in its environment resolved (output masked)",
        description="Run CMD with every environment variable whose value is a secret reference "
        "(from the environment or --env-file) set to the value, for CMD only; the values are "
        "masked as <concealed by strongroom> in what CMD writes to stdout and stderr. The exit "
        f"code is CMD's (127: not found, 126: not executable). {REFS}",
    )
    p.add_argument(
        "--env-file",
        metavar="F",
        action="append",
        help="also set the variables of this file (KEY=VALUE lines; # comments; repeatable)",
    )
    p.add_argument(
        "--no-masking", action="store_true", help="pass CMD's output through unmasked (a terminal)"
    )
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD…")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "inject",
        help="write a config file from a template with {{ sr://… }} references filled in",
        description="Copy TEMPLATE to FILE with each {{ sr://RECORD/FIELD }} replaced by its "
        "value. FILE is written owner-only (0600), replacing it whole; if any reference cannot "
        f"be resolved nothing is written. {REFS}",
    )
    p.add_argument("-i", "--in-file", required=True, metavar="TEMPLATE")
    p.add_argument("-o", "--out-file", required=True, metavar="FILE")
    p.set_defaults(func=cmd_inject)


def cmd_read(args: argparse.Namespace, ctx: Context) -> int:
    from vault.refs import parse_ref

    for ref in args.refs:
        parse_ref(ref)  # a malformed reference before the password
    vault = ctx.unlocked_vault()
    values = {ref: vault.read_ref(ref) for ref in args.refs}
    if args.json:
        ctx.print_json(values)
    else:
        for ref in args.refs:
            write_value(values[ref])
    return EXIT_OK


def read_text_file(path: Path, what: str) -> str:
    """A template or env file's text: UTF-8, at most MAX_TEXT_FILE bytes (read so far and no
    further, so a device or an endless pipe is refused instead of filling memory)."""
    if path.is_dir():
        raise CliError(f"strongroom: {path} is a folder, not {what}", EXIT_USAGE)
    with path.open("rb") as f:
        data = f.read(MAX_TEXT_FILE + 1)
    if len(data) > MAX_TEXT_FILE:
        raise CliError(
            f"strongroom: {path} is larger than {MAX_TEXT_FILE // 2**20} MiB: not {what}",
            EXIT_USAGE,
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"strongroom: {path} is not UTF-8 text", EXIT_USAGE) from None


def parse_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (an optional `export `, values optionally in matching quotes)."""
    text = read_text_file(path, "an env file")
    out: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "\0" in line:  # no environment variable can carry one (execve's strings end there)
            raise CliError(f"strongroom: {path} line {number} holds a NUL character", EXIT_USAGE)
        key, sep, value = line.removeprefix("export ").partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key.isidentifier():
            raise CliError(f"strongroom: {path} line {number} is not KEY=VALUE", EXIT_USAGE)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key] = value
    return out


def cmd_run(args: argparse.Namespace, ctx: Context) -> int:
    import subprocess

    from vault.refs import is_ref

    from ..viaagent import resolve_refs

    cmd = list(args.cmd)
    if cmd[:1] == ["--"]:
        cmd = cmd[1:]
    if not cmd:
        raise CliError("strongroom: give the program to run after --: run -- CMD…", EXIT_USAGE)
    env = {k: v for k, v in os.environ.items() if k not in _OWN_SECRETS}
    for name in args.env_file or []:
        env.update(parse_env_file(Path(name).expanduser()))
    named = {key: value for key, value in env.items() if is_ref(value)}
    values = resolve_refs(ctx, sorted(set(named.values())))
    for key, ref in sorted(named.items()):
        if "\0" in values[ref]:
            raise CliError(
                f"strongroom: {key}: the value of {ref} holds a NUL character, which an "
                "environment variable cannot carry; nothing was run",
                EXIT_USAGE,
            )
    env.update({key: values[ref] for key, ref in named.items()})
    secrets = [] if args.no_masking else list(values.values())
    sys.stdout.flush()
    sys.stderr.flush()
    pipe = subprocess.PIPE if secrets else None
    try:
        child = subprocess.Popen(cmd, env=env, stdout=pipe, stderr=pipe)
    except FileNotFoundError:
        print(f"strongroom: {cmd[0]}: command not found", file=sys.stderr)
        return 127
    except PermissionError:
        print(f"strongroom: {cmd[0]}: not executable", file=sys.stderr)
        return 126
    return _wait(child, secrets)


def _wait(child: subprocess.Popen[bytes], secrets: list[str]) -> int:
    """Pass the child's output on (masked), forward SIGTERM/SIGHUP, give its exit code."""
    import signal

    def forward(signum: int, _frame: object) -> None:
        child.send_signal(signum)

    old = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGHUP)}
    old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)  # ctrl+c reaches the child itself
    try:
        if child.stdout is not None and child.stderr is not None:
            from ..masking import pump

            pump({child.stdout.fileno(): 1, child.stderr.fileno(): 2}, secrets)
        code = child.wait()
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        signal.signal(signal.SIGINT, old_int)
    return code if code >= 0 else 128 - code


def cmd_inject(args: argparse.Namespace, ctx: Context) -> int:
    from vault.refs import fill_template, template_refs

    from ..viaagent import resolve_refs

    source = Path(args.in_file).expanduser()
    target = Path(args.out_file).expanduser()
    from vault.export import check_target

    check_target(target)  # a folder, or a folder that is not there
    if _same_file(source, target):
        raise CliError(
            f"strongroom: {target} is the template itself; writing it would replace the template "
            "with the secrets (give another -o FILE)",
            EXIT_USAGE,
        )
    template = read_text_file(source, "a template file")
    values = resolve_refs(ctx, template_refs(template))
    _write_private(target, fill_template(template, values))
    print(f"wrote {target} ({plural('reference', len(values))} filled in)", file=sys.stderr)
    return EXIT_OK


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # either is missing (the target usually is): not the same file
        return False


def _write_private(path: Path, text: str) -> None:
    """`text` into `path`, owner-only from the first byte, replacing the file whole."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
