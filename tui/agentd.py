"""The agent: one process per device home that holds the unlocked vault for the CLI.

Started by `strongroom unlock` (never prompts itself: the password arrives from the calling
terminal over the private socket). Answers `run` requests by executing the CLI command here, so
the client process never holds the Vault Key. Forgets the keys after the idle timeout or on
`lock`; exits on `lock`, when its home disappears, or after an hour locked. Only the same uid may
connect (SO_PEERCRED). Nothing secret is written to disk, the environment or argv.
"""

from __future__ import annotations

import argparse
import io
import os
import select
import socket
import struct
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from .agentwire import AGENT_COMMANDS, VERSION, WireError, recv, send, socket_path
from .context import EXIT_AUTH, EXIT_USAGE, CliError, Context

LINGER_LOCKED = 3600.0
CONN_TIMEOUT = 5.0


class Agent:
    def __init__(self, home: Path, timeout: float) -> None:
        from vault.vault import Vault

        self.home = home
        self.timeout = timeout
        self.vault: Vault | None = None
        self.last_use = time.monotonic()
        self.running = True
        self._parser: argparse.ArgumentParser | None = None

    # -- state --------------------------------------------------------------------------
    def forget(self) -> None:
        if self.vault is not None:
            self.vault.lock()
            self.vault.close()
        self.vault = None

    def _current_vault(self) -> Any:
        """The held vault, unless its key slot changed on disk (password changed meanwhile)."""
        if self.vault is None:
            return None
        on_disk = self.vault.store.get_meta("slot")
        if on_disk != self.vault.slot.to_bytes():
            self.forget()
            return None
        return self.vault

    def tick(self) -> None:
        idle = time.monotonic() - self.last_use
        if self.vault is not None and idle > self.timeout:
            self.forget()
        if self.vault is None and idle > LINGER_LOCKED:
            self.running = False
        if not (self.home / "vault.db").exists():
            self.forget()
            self.running = False

    # -- requests -----------------------------------------------------------------------
    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        if req.get("v") != VERSION:
            return {"code": EXIT_USAGE, "err": f"strongroom: agent protocol version {req.get('v')!r} is not {VERSION}\n"}
        op = req.get("op")
        if op == "ping":
            return {"ok": True, "unlocked": self._current_vault() is not None, "pid": os.getpid()}
        if op == "unlock":
            return self._unlock(req)
        if op == "lock":
            self.forget()
            self.running = False
            return {"ok": True}
        if op == "run":
            argv = req.get("argv")
            if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
                return {"code": EXIT_USAGE, "err": "strongroom: malformed agent request\n"}
            return self._run(argv)
        return {"code": EXIT_USAGE, "err": f"strongroom: unknown agent request {op!r}\n"}

    def _unlock(self, req: dict[str, Any]) -> dict[str, Any]:
        from vault.errors import VaultError
        from vault.vault import Vault

        password = req.get("password")
        if not isinstance(password, str):
            return {"code": EXIT_USAGE, "err": "strongroom: malformed unlock request\n"}
        timeout = req.get("timeout")
        if isinstance(timeout, int | float) and timeout > 0:
            self.timeout = float(timeout)
        self.forget()
        try:
            vault = Vault.open(self.home)
            vault.unlock(password)
        except VaultError as exc:
            from .context import exit_code_for

            code, message = exit_code_for(exc)
            return {"code": code, "err": f"strongroom: {message}\n"}
        self.vault = vault
        self.last_use = time.monotonic()
        return {"ok": True, "code": 0}

    def _run(self, argv: list[str]) -> dict[str, Any]:
        from .cli import build_parser, execute

        if self._parser is None:
            self._parser = build_parser()

        vault = self._current_vault()
        if vault is None:
            return {"locked": True}
        self.last_use = time.monotonic()
        out, err = io.StringIO(), io.StringIO()
        agent = self

        class AgentContext(Context):
            def unlocked_vault(self) -> Any:
                return vault

            def password(self, prompt: str = "") -> str:
                raise CliError("strongroom: this command cannot run through the agent", EXIT_AUTH)

        def make_context(args: argparse.Namespace) -> Context:
            ctx = AgentContext.from_args(args)
            if ctx.home.expanduser().resolve() != agent.home.resolve():
                raise CliError("strongroom: the agent serves another home", EXIT_USAGE)
            if args.command not in AGENT_COMMANDS:
                raise CliError(f"strongroom: {args.command} does not run through the agent", EXIT_USAGE)
            return ctx

        with redirect_stdout(out), redirect_stderr(err):
            code = execute(argv, make_context, allow_app=False, parser=self._parser)
        return {"code": code, "out": out.getvalue(), "err": err.getvalue()}


def _peer_uid(conn: socket.socket) -> int | None:
    if hasattr(socket, "SO_PEERCRED"):
        raw = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", raw)
        return int(uid)
    getpeereid = getattr(conn, "getpeereid", None)
    return int(getpeereid()[0]) if getpeereid else None


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def serve(home: Path, timeout: float) -> int:
    path = socket_path(home)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
        return 0  # another agent already serves this home
    except OSError:
        _unlink(path)
    finally:
        probe.close()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        server.bind(path)
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    server.listen(16)
    agent = Agent(home, timeout)
    try:
        while agent.running:
            ready, _, _ = select.select([server], [], [], 1.0)
            agent.tick()
            if not ready:
                continue
            conn, _ = server.accept()
            with conn:
                if _peer_uid(conn) != os.getuid():
                    continue
                conn.settimeout(CONN_TIMEOUT)
                try:
                    req = recv(conn)
                except (WireError, OSError) as exc:
                    try:
                        send(conn, {"code": EXIT_USAGE, "err": f"strongroom: bad agent request: {exc}\n"})
                    except OSError:
                        pass
                    continue
                try:
                    send(conn, agent.handle(req))
                except (WireError, OSError):
                    continue
    finally:
        agent.forget()
        server.close()
        _unlink(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="strongroom-agent")
    parser.add_argument("--home", required=True)
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args(argv)
    return serve(Path(args.home).expanduser(), args.timeout)


if __name__ == "__main__":
    sys.exit(main())
