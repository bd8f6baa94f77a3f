"""The agent: one process per device home that holds the unlocked vault for the CLI and the TUI.

Started by `strongroom unlock` (never prompts itself: the password arrives from the calling
terminal over the private socket) through `cli/agent_host.py`, which hands it the function that
runs a CLI command. Answers `run` requests by executing the command here, so the CLI process
never holds the Vault Key; hands the unlocked keys to the TUI (`keys`) and tells
watching TUIs when it locks (`watch`). Forgets the keys after the idle timeout or on `lock`;
exits on `lock`, when its home disappears, or after an hour locked. Only the same uid may
connect (SO_PEERCRED). Nothing secret is written to disk, the environment or argv.

An SSH key marked "ask before each use" is signed with only after a watching app that said it can
answer (`watch` with `ssh_ask`) allowed it: the agent sends it `ssh_ask`, keeps the SSH agent's
connection waiting, and answers it when the app sends `ssh_answer` (or refuses after ASK_WAIT,
telling the apps to close the question; on lock; or at once when no such app is open).
"""

from __future__ import annotations

import base64
import os
import select
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.errors import EXIT_USAGE, explain

from .wire import OP_VERSION, STDIN_VERSION, VERSION, WireError, recv, send, socket_path

if TYPE_CHECKING:
    from vault.vault import Vault

    from .sshkeys_held import HeldKey

#: Runs one CLI command line on the unlocked vault: (argv, vault, the client's stdin when it
#: forwarded it) -> (exit code, stdout, stderr).
CommandRunner = Callable[[list[str], "Vault", bytes | None], tuple[int, str, str]]

MALFORMED = {"code": EXIT_USAGE, "err": "strongroom: malformed agent request\n"}
LINGER_LOCKED = 3600.0
CONN_TIMEOUT = 5.0
#: How long a signature with an "ask before each use" key waits for the app's answer (then it is
#: refused and the app's question closes); Agent's and serve's `ask_wait`.
ASK_WAIT = 60.0
#: The longest the serving loop sleeps between its checks (idle timeout, home gone).
TICK = 1.0
REFUSED_NO_APP = "no Strongroom app is open to ask (the key asks before each use)"


@dataclass
class Asking:
    """A signature waiting for the app's answer: the SSH agent's connection stays open."""

    conn: socket.socket
    key: HeldKey
    data: bytes
    flags: int
    deadline: float


class Agent:
    def __init__(
        self, home: Path, timeout: float, run_command: CommandRunner, ask_wait: float = ASK_WAIT
    ) -> None:
        self.home = home
        self.run_command = run_command
        self.timeout = timeout
        self.ask_wait = ask_wait
        self.vault: Vault | None = None
        self.last_use = time.monotonic()
        self.running = True
        #: Why the keys were just forgotten, for the watching TUIs ("lock", "timeout", "gone").
        self.announce: str | None = None
        #: Watching apps that answer "ask before each use" questions, and the questions open.
        self.askers: list[socket.socket] = []
        self.asking: dict[int, Asking] = {}
        self._last_ask = 0

    # -- state --------------------------------------------------------------------------
    def forget(self, why: str | None = None) -> None:
        """Drop the keys; `why` tells watching TUIs to lock too (not for a password change)."""
        if self.vault is not None:
            self.vault.lock()
            self.vault.close()
        self.vault = None
        for ask_id in list(self.asking):
            self.end_ask(ask_id, allow=False)
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
        now = time.monotonic()
        for ask_id, asking in list(self.asking.items()):
            if now >= asking.deadline:
                self.end_ask(ask_id, allow=False)
        idle = now - self.last_use
        if self.vault is not None and idle > self.timeout:
            self.forget("timeout")
        if self.vault is None and idle > LINGER_LOCKED:
            self.running = False
        if not (self.home / "vault.db").exists():
            self.forget("gone")
            self.running = False

    def next_tick(self) -> float:
        """Seconds until the next check is due: TICK, or sooner when a question expires."""
        now = time.monotonic()
        due = [a.deadline - now for a in self.asking.values()]
        return max(0.0, min([TICK, *due]))

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
            return {
                "ok": True,
                "unlocked": unlocked,
                "pid": os.getpid(),
                "v": VERSION,
                "askers": len(self.askers),  # open apps that answer "ask before each use"
            }
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

        from .sshkeys_held import find, list_identities, sign

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
        key = find(vault, blob)
        if key is None:
            return {"ok": False}
        if key.ask:
            client = req.get("client")
            return {"_ask": (key, data, flags, client if isinstance(client, str) else "")}
        return {"ok": True, "sig": base64.b64encode(sign(vault, key, data, flags)).decode()}

    # -- "ask before each use" -----------------------------------------------------------------
    def start_ask(
        self, conn: socket.socket, key: HeldKey, data: bytes, flags: int, client: str
    ) -> bool:
        """Ask every app that answers; False (refuse now) when none could be told."""
        self._last_ask += 1
        ask_id = self._last_ask
        event = {
            "event": "ssh_ask",
            "id": ask_id,
            "title": key.title,
            "fingerprint": key.fingerprint,
            "client": client[:200],
        }
        told = False
        for w in list(self.askers):
            try:
                send(w, event)
                told = True
            except (WireError, OSError):
                self.askers.remove(w)
        if told:
            deadline = time.monotonic() + self.ask_wait
            self.asking[ask_id] = Asking(conn, key, data, flags, deadline)
        return told

    def end_ask(self, ask_id: int, *, allow: bool) -> None:
        """Answer the waiting SSH agent (a signature only if allowed and still unlocked), and
        tell the apps the question is closed (another app may have answered it)."""
        from .sshkeys_held import find, sign

        asking = self.asking.pop(ask_id, None)
        if asking is None:
            return  # answered already, or expired
        answer: dict[str, Any] = {"ok": False, "refused": "not allowed in the app"}
        vault = self._current_vault() if allow else None
        if vault is not None:
            key = find(vault, asking.key.blob)
            if key is not None:
                self.last_use = time.monotonic()
                signature = sign(vault, key, asking.data, asking.flags)
                answer = {"ok": True, "sig": base64.b64encode(signature).decode()}
        try:
            send(asking.conn, answer)
        except (WireError, OSError):
            pass
        asking.conn.close()
        for w in list(self.askers):
            try:
                send(w, {"event": "ssh_asked", "id": ask_id})
            except (WireError, OSError):
                self.askers.remove(w)

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


def _drop_watcher(agent: Agent, w: socket.socket, watchers: list[socket.socket]) -> None:
    watchers.remove(w)
    if w in agent.askers:
        agent.askers.remove(w)
    w.close()


def _serve_watcher(agent: Agent, w: socket.socket, watchers: list[socket.socket]) -> None:
    """A watching TUI wrote: a `touch` (activity) frame, an answer to an `ssh_ask` (only from
    an app that asked to answer them), or it hung up."""
    try:
        frame = recv(w)
    except (WireError, OSError):
        frame = None
    op = frame.get("op") if frame is not None else None
    if op == "touch":
        agent.touch()
        return
    if op == "ssh_answer" and frame is not None and w in agent.askers:
        ask_id, allow = frame.get("id"), frame.get("allow")
        if isinstance(ask_id, int) and isinstance(allow, bool):
            agent.touch()
            agent.end_ask(ask_id, allow=allow)
            return
    _drop_watcher(agent, w, watchers)


def serve(
    home: Path, timeout: float, run_command: CommandRunner, ask_wait: float = ASK_WAIT
) -> int:
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
    agent = Agent(home, timeout, run_command, ask_wait)
    watchers: list[socket.socket] = []  # TUIs told when the keys go (see `watch`)
    try:
        while agent.running:
            ready, _, _ = select.select([server, *watchers], [], [], agent.next_tick())
            agent.tick()
            for w in ready:
                if w is not server and w in watchers:
                    _serve_watcher(agent, w, watchers)
            if server in ready:
                _accept(server, agent, watchers)
            if agent.announce is not None:
                _tell_watchers(watchers, {"event": "locked", "why": agent.announce})
                agent.askers.clear()
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
        ask = answer.pop("_ask", None)
        if ask is not None:
            if agent.start_ask(conn, *ask):
                keep = True  # answered when the app answers (Agent.end_ask)
                return
            answer = {"ok": False, "refused": REFUSED_NO_APP}
        try:
            send(conn, answer)
        except (WireError, OSError):
            return
        keep = req.get("op") == "watch" and bool(answer.get("ok"))
        if keep:
            watchers.append(conn)
            if req.get("ssh_ask") is True:
                agent.askers.append(conn)
    finally:
        if not keep:
            conn.close()
