"""`unlock [--timeout]` and the agent side of `lock` (see agent/daemon.py)."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

from ..invocation import EXIT_OK, EXIT_USAGE, CliError, Context

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
START_WAIT = 10.0


def parse_duration(text: str) -> float:
    """'90', '90s', '15m', '2h', '1d' → seconds."""
    m = _DURATION.match(text.lower())
    if not m or float(m.group(1)) <= 0:
        raise CliError(f"strongroom: {text!r} is not a duration (e.g. 90s, 15m, 2h)", EXIT_USAGE)
    return float(m.group(1)) * _UNIT[m.group(2)]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "unlock",
        help="keep this device unlocked for a while (an agent holds the keys in memory)",
        description="Unlock once; later ls/get/add/edit/rm/totp/audit need no password until the "
        "idle timeout or `strongroom lock`.",
    )
    p.add_argument(
        "--timeout",
        default="15m",
        metavar="DURATION",
        help="idle time before the keys are forgotten (default 15m)",
    )
    p.add_argument(
        "--ssh-agent",
        action="store_true",
        help="also start the SSH agent (`strongroom ssh-agent`) and print its SSH_AUTH_SOCK= "
        'lines: eval "$(strongroom unlock --ssh-agent)"',
    )
    p.set_defaults(func=cmd_unlock)


def _start_agent(ctx: Context, timeout: float) -> None:
    import subprocess

    from agent.wire import call

    subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.agent_host",
            "--home",
            str(ctx.home),
            "--timeout",
            str(timeout),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={k: v for k, v in os.environ.items() if k not in _SECRET_ENV},
    )
    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        if call(ctx.home, {"op": "ping"}, timeout=2.0) is not None:
            return
        time.sleep(0.02)
    raise CliError("strongroom: the agent did not start; run commands with a password instead", 70)


_SECRET_ENV = (
    "STRONGROOM_PASSWORD",
    "STRONGROOM_NEW_PASSWORD",
    "STRONGROOM_BACKUP_PASSWORD",
    "STRONGROOM_SSH_PASSPHRASE",
)


def cmd_unlock(args: argparse.Namespace, ctx: Context) -> int:
    import socket

    from agent.wire import call

    if not hasattr(socket, "AF_UNIX"):
        raise CliError(
            "strongroom: this system has no Unix sockets, so there is no agent; each command will ask "
            "for the password",
            EXIT_USAGE,
        )
    timeout = parse_duration(args.timeout)
    ctx.open_vault().close()  # a clear error if there is no account here
    password = ctx.password()  # asked here, in the calling terminal, never by the agent
    if call(ctx.home, {"op": "ping"}) is None:
        _start_agent(ctx, timeout)
    answer = call(
        ctx.home, {"op": "unlock", "password": password, "timeout": timeout}, timeout=120.0
    )
    if answer is None:
        raise CliError("strongroom: the agent stopped; try again", 70)
    if answer.get("code"):
        sys.stderr.write(str(answer.get("err", "")))
        return int(answer["code"])
    from vault.words import duration

    print(
        f"Unlocked: locks again after {duration(timeout)} without use "
        "(`strongroom lock` locks now).",
        file=sys.stderr,
    )
    if args.ssh_agent:
        from .sshcmd import serve_ssh_agent

        serve_ssh_agent(ctx, None)
    return EXIT_OK


def forget_agent(ctx: Context) -> None:
    from agent.wire import WireError, call

    try:
        call(ctx.home, {"op": "lock"})
    except (OSError, WireError):
        pass
    print("Locked.", file=sys.stderr)
