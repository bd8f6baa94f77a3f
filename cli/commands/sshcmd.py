"""`ssh-agent [--socket PATH]`: start (or find) the SSH agent serving the unlocked vault's keys
and print the shell lines that point ssh at it (agent/sshagent.py does the serving)."""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import struct
import sys

from ..invocation import EXIT_OK, EXIT_USAGE, CliError, Context
from ..output import write_exact

START_WAIT = 10.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "ssh-agent",
        help="serve the vault's SSH keys to ssh, git and ssh-keygen (prints SSH_AUTH_SOCK=)",
        description="Start an SSH agent for the SSH key records of this device (or find the one "
        "already running) and print the SSH_AUTH_SOCK= and SSH_AGENT_PID= lines for the shell: "
        'eval "$(strongroom ssh-agent)". It lists and uses the keys while the vault is '
        "unlocked (`strongroom unlock`) and none while it is locked; keys never leave the unlock "
        "agent. The socket is owner-only (0600) in an owner-only folder (0700).",
    )
    p.add_argument(
        "--socket",
        metavar="PATH",
        help="where to listen (default: in the private runtime folder); its folder is made "
        "0700, or must be already",
    )
    p.set_defaults(func=cmd_ssh_agent)


def default_socket(ctx: Context) -> str:
    from agent.wire import runtime_dir, socket_path

    return os.path.join(runtime_dir(), "ssh-" + os.path.basename(socket_path(ctx.home)))


def _running_pid(path: str) -> int | None:
    """The pid of an agent already listening on `path` (its peer credentials), else None."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
        raw = probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return int(struct.unpack("3i", raw)[0])
    except OSError:
        return None
    finally:
        probe.close()


def _start(ctx: Context, path: str) -> int:
    import select
    import subprocess

    from .agentcmd import _SECRET_ENV

    child = subprocess.Popen(
        [sys.executable, "-m", "agent.sshagent", "--home", str(ctx.home), "--socket", path],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={k: v for k, v in os.environ.items() if k not in _SECRET_ENV},
    )
    assert child.stdout is not None and child.stderr is not None
    ready, _, _ = select.select([child.stdout], [], [], START_WAIT)
    line = child.stdout.readline() if ready else b""
    child.stdout.close()
    if line.strip() != b"ready":
        child.wait(timeout=START_WAIT) if not ready else child.wait()
        message = child.stderr.read().decode(errors="replace").strip()
        child.stderr.close()
        raise CliError(message or "strongroom: the SSH agent did not start", EXIT_USAGE)
    child.stderr.close()
    return child.pid


def cmd_ssh_agent(args: argparse.Namespace, ctx: Context) -> int:
    ctx.open_vault().close()  # a clear error if there is no account here
    serve_ssh_agent(ctx, args.socket)
    return EXIT_OK


def serve_ssh_agent(ctx: Context, socket_arg: str | None) -> None:
    """Start the SSH agent (or find it running) and print the shell lines (also `unlock
    --ssh-agent`)."""
    from agent.wire import MAX_SOCKET_PATH

    path = os.path.abspath(os.path.expanduser(socket_arg)) if socket_arg else default_socket(ctx)
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise CliError(f"strongroom: the socket path {path} is too long for a Unix socket")
    pid = _running_pid(path) or _start(ctx, path)
    q = shlex.quote(path)
    write_exact(
        f"SSH_AUTH_SOCK={q}; export SSH_AUTH_SOCK;\nSSH_AGENT_PID={pid}; export SSH_AGENT_PID;\n"
    )
    if not _unlocked(ctx):  # on stderr: eval "$(strongroom ssh-agent)" reads stdout only
        print(
            "strongroom: the vault is locked: the SSH agent offers no keys until "
            "`strongroom unlock`",
            file=sys.stderr,
        )


def _unlocked(ctx: Context) -> bool:
    """Is this home's unlock agent running and unlocked (where the SSH agent takes its keys)?"""
    from agent.wire import WireError, call

    try:
        ping = call(ctx.home, {"op": "ping"}, timeout=5)
    except (OSError, WireError):
        return False
    return bool(ping and ping.get("unlocked"))
