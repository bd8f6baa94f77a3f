"""The agent: one process per device home that holds the unlocked vault for the CLI and the TUI.

Started by `strongroom unlock` (never prompts itself: the password arrives from the calling
terminal over the private socket) through `cli/agent_host.py`, which hands it the function that
runs a CLI command. Answers `run` requests by executing the command here, so the CLI process
never holds the Vault Key; hands the unlocked keys to the TUI (`keys`) and tells
watching TUIs when it locks (`watch`). Forgets the keys after the idle timeout or on `lock`;
exits on `lock`, when its home disappears, or after an hour locked. Only the same uid may
connect (SO_PEERCRED). Nothing secret is written to disk, the environment or argv.
"""

from __future__ import annotations

import base64
import os
import select
import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.errors import EXIT_USAGE, explain

from .wire import OP_VERSION, STDIN_VERSION, VERSION, WireError, recv, send, socket_path

if TYPE_CHECKING:
    from vault.vault import Vault

#: Runs one CLI command line on the unlocked vault: (argv, vault, the client's stdin when it
#: forwarded it) -> (exit code, stdout, stderr).
CommandRunner = Callable[[list[str], "Vault", bytes | None], tuple[int, str, str]]

MALFORMED = {"code": EXIT_USAGE, "err": "strongroom: malformed agent request\n"}
LINGER_LOCKED = 3600.0
CONN_TIMEOUT = 5.0


class Agent:
    def __init__(self, home: Path, timeout: float, run_command: CommandRunner) -> None:
        self.home = home
        self.run_command = run_command
        self.timeout = timeout
        self.vault: Vault | None = None
        self.last_use = time.monotonic()
        self.running = True
        #: Why the keys were just forgotten, for the watching TUIs ("lock", "timeout", "gone").
        self.announce: str | None = None

    # -- state --------------------------------------------------------------------------
    def forget(self, why: str | None = None) -> None:
        """Drop the keys; `why` tells watching TUIs to lock too (not for a password change)."""
        if self.vault is not None:
            self.vault.lock()
            self.vault.close()
        self.vault = None
        if why is not None:
            self.announce = why

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
            self.forget("timeout")
        if self.vault is None and idle > LINGER_LOCKED:
            self.running = False
        if not (self.home / "vault.db").exists():
            self.forget("gone")
            self.running = False

    def touch(self) -> None:
        """A watching TUI is in use: that counts as use of the unlock (not of a locked agent)."""
        if self.vault is not None:
            self.last_use = time.monotonic()

    # -- requests -----------------------------------------------------------------------
    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        v, op = req.get("v"), req.get("op")
        if not isinstance(v, int) or not 1 <= v <= VERSION:
            return {
                "code": EXIT_USAGE,
                "err": f"strongroom: agent protocol version {v!r} is not 1-{VERSION}\n",
            }
        if isinstance(op, str) and OP_VERSION.get(op, 1) > v:
            return {
                "code": EXIT_USAGE,
                "err": f"strongroom: agent request {op!r} needs protocol version {OP_VERSION[op]}\n",
            }
        if op == "ping":
            unlocked = self._current_vault() is not None
            return {"ok": True, "unlocked": unlocked, "pid": os.getpid(), "v": VERSION}
        if op == "unlock":
            return self._unlock(req)
        if op == "lock":
            self.forget("lock")
            self.running = False
            return {"ok": True}
        if op == "keys":
            return self._keys()
        if op == "watch":
            return {"ok": True, "unlocked": self._current_vault() is not None}
        if op == "ssh_list" or op == "ssh_sign":
            return self._ssh(op, req)
        if op == "run":
            argv = req.get("argv")
            try:
                stdin = _forwarded_stdin(req.get("stdin"))
            except ValueError:
                return MALFORMED
            if stdin is not None and v < STDIN_VERSION:
                return MALFORMED  # a v1/v2 client never sends stdin
            if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
                return MALFORMED
            return self._run(argv, stdin)
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
            code, message = explain(exc)
            return {"code": code, "err": f"strongroom: {message}\n"}
        self.vault = vault
        self.last_use = time.monotonic()
        return {"ok": True, "code": 0}

    def _keys(self) -> dict[str, Any]:
        """The unlocked keys for the TUI (same uid only, checked at accept): see docs/design.md."""
        vault = self._current_vault()
        if vault is None:
            return {"locked": True}
        self.last_use = time.monotonic()
        keys = vault.keys
        b64 = base64.b64encode
        return {
            "ok": True,
            "account_id": keys.account_id,
            "generation": keys.generation,
            "epoch": keys.epoch,
            "ak": b64(keys.ak).decode(),
            "vk": b64(keys.vk).decode(),
            "x_auth": b64(keys.x_auth).decode(),
        }

    def _ssh(self, op: str, req: dict[str, Any]) -> dict[str, Any]:
        """The SSH agent's questions: the keys held, or a signature (agent/sshkeys_held.py)."""
        from binascii import Error as B64Error

        from .sshkeys_held import list_identities, sign

        vault = self._current_vault()
        if vault is None:
            return {"locked": True}
        self.last_use = time.monotonic()
        if op == "ssh_list":
            return {"ok": True, "keys": list_identities(vault)}
        try:
            blob = base64.b64decode(str(req.get("blob", "")), validate=True)
            data = base64.b64decode(str(req.get("data", "")), validate=True)
            flags = int(req.get("flags", 0))
        except (B64Error, ValueError, TypeError):
            return MALFORMED
        signature = sign(vault, blob, data, flags)
        if signature is None:
            return {"ok": False}
        return {"ok": True, "sig": base64.b64encode(signature).decode()}

    def _run(self, argv: list[str], stdin: bytes | None) -> dict[str, Any]:
        vault = self._current_vault()
        if vault is None:
            return {"locked": True}
        self.last_use = time.monotonic()
        code, out, err = self.run_command(argv, vault, stdin)
        return {"code": code, "out": out, "err": err}


def _forwarded_stdin(value: object) -> bytes | None:
    """The client's stdin (base64) as bytes, None when not sent; ValueError when malformed."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("stdin is not a string")
    from binascii import a2b_base64

    return a2b_base64(value)  # binascii.Error is a ValueError


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


def _answer_bad_request(conn: socket.socket, exc: Exception) -> None:
    try:
        send(conn, {"code": EXIT_USAGE, "err": f"strongroom: bad agent request: {exc}\n"})
    except (WireError, OSError):
        pass


def _tell_watchers(watchers: list[socket.socket], event: dict[str, Any] | None) -> None:
    """Send `event` (if any) to every watching TUI and hang up; a TUI gone meanwhile is skipped."""
    for w in watchers:
        try:
            if event is not None:
                send(w, event)
        except (WireError, OSError):
            pass
        w.close()
    watchers.clear()


def _serve_watcher(agent: Agent, w: socket.socket, watchers: list[socket.socket]) -> None:
    """A watching TUI wrote: a `touch` (activity) frame, or it hung up."""
    try:
        frame = recv(w)
    except (WireError, OSError):
        frame = None
    if frame is None or frame.get("op") != "touch":
        watchers.remove(w)
        w.close()
        return
    agent.touch()


def serve(home: Path, timeout: float, run_command: CommandRunner) -> int:
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
    agent = Agent(home, timeout, run_command)
    watchers: list[socket.socket] = []  # TUIs told when the keys go (see `watch`)
    try:
        while agent.running:
            ready, _, _ = select.select([server, *watchers], [], [], 1.0)
            agent.tick()
            for w in ready:
                if w is not server and w in watchers:
                    _serve_watcher(agent, w, watchers)
            if server in ready:
                _accept(server, agent, watchers)
            if agent.announce is not None:
                _tell_watchers(watchers, {"event": "locked", "why": agent.announce})
                agent.announce = None
    finally:
        agent.forget()
        _tell_watchers(
            watchers, {"event": "locked", "why": agent.announce} if agent.announce else None
        )
        server.close()
        _unlink(path)
    return 0


def _accept(server: socket.socket, agent: Agent, watchers: list[socket.socket]) -> None:
    """One request on a new connection; a `watch` connection stays open in `watchers`."""
    conn, _ = server.accept()
    if _peer_uid(conn) != os.getuid():
        conn.close()
        return
    conn.settimeout(CONN_TIMEOUT)
    keep = False
    try:
        try:
            req = recv(conn)
        except (WireError, OSError) as exc:
            _answer_bad_request(conn, exc)
            return
        answer = agent.handle(req)
        try:
            send(conn, answer)
        except (WireError, OSError):
            return
        keep = req.get("op") == "watch" and bool(answer.get("ok"))
        if keep:
            watchers.append(conn)
    finally:
        if not keep:
            conn.close()
