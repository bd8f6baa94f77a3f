"""The agent's wire: where its socket lives and how one request/answer is framed.

Stdlib only: the CLI's fast path imports this and nothing of vault/, and only cheap parts of the
stdlib (the C modules `_socket` and `_sha256` instead of `socket` and `hashlib`, which cost
~3.6 and ~2.4 ms to import; no `typing`, no `struct`; no pathlib, no platformdirs: see
`default_home_cached`). `json` stays: it needs `re`, which the console script imports anyway.
A frame is a 4-byte big-endian length and a JSON object; every request carries `"v"`, the
protocol version its op first appeared in (OP_VERSION), so an older agent refuses only the ops it
does not know. Requests over MAX_FRAME bytes are refused without being read.
"""

from __future__ import annotations

import json
import os
import sys

TYPE_CHECKING = False  # not `typing` (~3 ms to import): annotations are strings here
if TYPE_CHECKING:
    import _socket
    from collections.abc import Callable
    from typing import Any


def _c_sha256() -> Any:
    """SHA-256 from the C module alone (`_sha256`, 3.12+ `_sha2`); hashlib would load OpenSSL first."""
    for name in ("_sha256", "_sha2"):
        try:
            return __import__(name).sha256
        except (ImportError, AttributeError):
            continue
    import hashlib

    return hashlib.sha256


_sha256 = _c_sha256()

VERSION = 5
#: The protocol version each op first appeared in: v1 the CLI's ops, v2 the TUI's (keys, watch, touch).
#: v3: a `run` may carry the client's stdin (values given as `-`); such a run is stamped v3, and a
#: client forwards stdin only to an agent whose ping says v >= 3 (an older agent would ignore it
#: and its command would take the literal "-" as the value).
STDIN_VERSION = 3
#: v4: the SSH agent's ops (`ssh_list`, `ssh_sign`; agent/sshagent.py).
#: v5: "ask before each use" SSH keys: `watch` may carry `ssh_ask` (this app answers), the agent
#: sends such apps `ssh_ask`/`ssh_asked` events and they answer with `ssh_answer` on the watch.
OP_VERSION = {
    "ping": 1,
    "unlock": 1,
    "lock": 1,
    "run": 1,
    "keys": 2,
    "watch": 2,
    "touch": 2,
    "ssh_list": 4,
    "ssh_sign": 4,
    "ssh_answer": 5,
}
MAX_FRAME = 1 << 20
#: stdin a client forwards for values given as `-` (base64 in one frame); also the CLI's limit.
MAX_STDIN = MAX_FRAME // 2
_LEN_BYTES = 4  # big-endian length prefix (int.to_bytes: no `struct` import)

#: Commands the agent answers for the CLI (they need the vault unlocked and touch no local path).
AGENT_COMMANDS = frozenset(
    {
        "ls",
        "get",
        "add",
        "edit",
        "rm",
        "totp",
        "audit",
        "read",
        "git-credential",
        "history",
        "trash",
        "attach",
    }
)
#: Of those with verbs, the verbs the agent answers: a file's bytes go to and from the caller's
#: paths or its stdout, never through a text frame, so `attach add|get|settings` run in the
#: caller's process (with the password).
AGENT_VERBS = {"attach": frozenset({"ls", "rm"})}
#: Commands whose stdin is their input (git's credential request): forwarded to the agent.
STDIN_COMMANDS = frozenset({"git-credential"})


class WireError(Exception):
    """A malformed, oversized or truncated frame."""


MAX_SOCKET_PATH = 100  # sun_path holds 104-108 bytes depending on the system


def runtime_dir() -> str:
    """Private (0700) per-user folder for agent sockets (os.path, not pathlib: fast import)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and os.path.isdir(base) and len(base) < MAX_SOCKET_PATH - 40:
        folder = os.path.join(base, "strongroom")
    else:
        folder = os.path.join("/tmp", f"strongroom-{os.getuid()}")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    st = os.stat(folder)
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise WireError(f"{folder} is not a private folder of this user; remove it and try again")
    return folder


def socket_path(home: str | os.PathLike[str]) -> str:
    """One agent per device home."""
    resolved = os.path.realpath(os.path.expanduser(os.fspath(home)))
    digest = _sha256(os.fsencode(resolved)).hexdigest()[:20]
    return os.path.join(runtime_dir(), f"agent-{digest}.sock")


def _default_home_file() -> str:
    """Where the default home resolved for this environment is remembered (runtime dir, 0700)."""
    inputs = "\0".join(
        (sys.platform, os.environ.get("HOME", ""), os.environ.get("XDG_DATA_HOME", ""))
    )
    return os.path.join(runtime_dir(), f"default-home-{_sha256(inputs.encode()).hexdigest()[:20]}")


def default_home_cached(resolve: Callable[[], str | os.PathLike[str]]) -> str:
    """The platform's default home without importing platformdirs (and pathlib) on every call.

    platformdirs' user data dir is a function of the platform, HOME and XDG_DATA_HOME (and of
    the user, whose runtime dir this is), so the answer `resolve()` gave once for those inputs is
    remembered in the private runtime dir (a path, nothing secret; gone at reboot) and read back
    with one open(). Saves ~12 ms of imports for every user who does not set STRONGROOM_HOME.
    """
    path = _default_home_file()
    try:
        with open(path, encoding="utf-8") as f:
            cached = f.read()
        if cached:
            return cached
    except OSError:
        pass
    home = os.fspath(resolve())
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(home)
        os.replace(tmp, path)
    except OSError:
        pass  # only a cache
    return home


def send(sock: _socket.socket, obj: dict[str, Any]) -> None:
    data = json.dumps(obj, separators=(",", ":")).encode()
    if len(data) > MAX_FRAME:
        raise WireError("message too large")
    sock.sendall(len(data).to_bytes(_LEN_BYTES, "big") + data)


def _exact(sock: _socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise WireError("connection closed mid-message")
        buf += chunk
    return bytes(buf)


def recv(sock: _socket.socket) -> dict[str, Any]:
    n = int.from_bytes(_exact(sock, _LEN_BYTES), "big")
    if n > MAX_FRAME:
        raise WireError(f"message of {n} bytes is over the {MAX_FRAME}-byte limit")
    try:
        obj = json.loads(_exact(sock, n))
    except ValueError:
        raise WireError("message is not JSON") from None
    except RecursionError:  # '[' nested 100,000 deep: it ended the unlock agent's loop
        raise WireError("message is nested too deeply") from None
    if not isinstance(obj, dict):
        raise WireError("message is not a JSON object")
    return obj


def request(op: str, **fields: Any) -> dict[str, Any]:
    """A request frame for `op`, stamped with the version that op needs."""
    return {"v": OP_VERSION.get(op, VERSION), "op": op, **fields}


def connect(home: str | os.PathLike[str], timeout: float) -> _socket.socket | None:
    """A connected socket to this home's agent, or None when none listens (no file, refused)."""
    path = socket_path(home)
    if not os.path.exists(path):
        return None
    import _socket  # the C module: `socket` adds ~3.6 ms of enum set-up the fast path does not need

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def call(
    home: str | os.PathLike[str], req: dict[str, Any], timeout: float = 30.0
) -> dict[str, Any] | None:
    """One request to this home's agent; None when no agent is listening."""
    return call_raw(home, request(**req), timeout)


def call_raw(
    home: str | os.PathLike[str], frame: dict[str, Any], timeout: float = 30.0
) -> dict[str, Any] | None:
    """Send `frame` as it is (its own "v"): one answer, or None when no agent is listening."""
    sock = connect(home, timeout)
    if sock is None:
        return None
    try:
        send(sock, frame)
        return recv(sock)
    finally:
        sock.close()


def _home_of(argv: list[str]) -> str | None:
    """--home from argv, else STRONGROOM_HOME, else the platform default (as the CLI resolves it)."""
    for i, arg in enumerate(argv):
        if arg == "--home" and i + 1 < len(argv):
            return os.path.expanduser(argv[i + 1])
        if arg.startswith("--home="):
            return os.path.expanduser(arg.split("=", 1)[1])
    env = os.environ.get("STRONGROOM_HOME")
    if env:
        return os.path.expanduser(env)
    return None


def command_of(argv: list[str]) -> str | None:
    """The command word: the first argument that is not a global option."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--home":
            skip = True
            continue
        if arg.startswith("-"):
            continue
        return arg
    return None


def _values_from_stdin(argv: list[str]) -> bool:
    """Does the command read a value from stdin (`--field NAME=-`, git's request)? Then stdin
    goes to the agent."""
    if command_of(argv) in STDIN_COMMANDS:
        return True
    return any(
        arg.endswith("=-") and (arg.startswith("--field=") or before == "--field")
        for before, arg in zip(["", *argv], argv, strict=False)
    )


def agent_answers(command: str | None, verb: str | None) -> bool:
    """Whether the agent runs `command` (`verb`, for a command with verbs)."""
    if command not in AGENT_COMMANDS:
        return False
    verbs = AGENT_VERBS.get(command)
    return verbs is None or verb in verbs


def _verb_of(argv: list[str], command: str | None) -> str | None:
    """The word after the command word (`attach ls …` → "ls"), options skipped."""
    words = [a for a in argv if not a.startswith("-")]
    if command in words and words.index(command) + 1 < len(words):
        return words[words.index(command) + 1]
    return None


def _reads_key_file(argv: list[str]) -> bool:
    """`add ssh-key --private-key F`: decrypted here (a passphrase prompt in this terminal), then
    handed to the agent by the CLI itself."""
    return any(a == "--private-key" or a.startswith("--private-key=") for a in argv)


#: Options naming a local file the agent reads: made absolute (the agent has its own cwd).
PATH_OPTIONS = ("--breaches",)


def _absolute_paths(argv: list[str]) -> list[str]:
    out = []
    for before, arg in zip(["", *argv], argv, strict=False):
        if before in PATH_OPTIONS:
            arg = os.path.abspath(os.path.expanduser(arg))
        else:
            for opt in PATH_OPTIONS:
                if arg.startswith(opt + "="):
                    arg = f"{opt}={os.path.abspath(os.path.expanduser(arg[len(opt) + 1 :]))}"
        out.append(arg)
    return out


def try_agent(argv: list[str]) -> int | None:
    """Answer a CLI call through a running, unlocked agent; None = run it in this process.

    Gives the exit code after writing the agent's stdout/stderr. If the agent runs but its unlock
    expired and no password is at hand (no env, no stdin flag, no terminal), says so: exit 3.
    """
    if os.name != "posix" or "-h" in argv or "--help" in argv:
        return None
    command = command_of(argv)
    if not agent_answers(command, _verb_of(argv, command)) or _reads_key_file(argv):
        return None
    home: str | os.PathLike[str] | None = _home_of(argv)
    try:
        if home is None:
            from vault.home import default_home

            home = default_home_cached(default_home)
        req: dict[str, Any] = {"op": "run", "argv": _absolute_paths(argv)}
        if _values_from_stdin(argv):
            if sys.stdin.isatty():
                return None  # asked for with a hidden prompt in this process
            ping = call(home, {"op": "ping"})
            if not ping or not ping.get("unlocked") or int(ping.get("v", 1)) < STDIN_VERSION:
                return None  # read stdin only once it goes to an agent that can answer
            from binascii import b2a_base64

            data = sys.stdin.buffer.read(MAX_STDIN + 1)  # the agent's CLI refuses more
            req["stdin"] = b2a_base64(data, newline=False).decode()
            answer = call_raw(home, request(**req) | {"v": STDIN_VERSION})
        else:
            answer = call(home, req)
    except (OSError, WireError, UnicodeError):  # e.g. a HOME not in UTF-8: the CLI explains it
        return None
    if answer is None:
        return None
    if answer.get("locked"):
        password_at_hand = "stdin" not in req and (
            "--password-stdin" in argv or "STRONGROOM_PASSWORD" in os.environ or sys.stdin.isatty()
        )
        if password_at_hand:
            return None
        print(
            "strongroom: the unlock has expired (`strongroom unlock` again, or give the password)",
            file=sys.stderr,
        )
        return 3
    out = str(answer.get("out", ""))
    if sys.stdout.isatty():  # the agent wrote for a pipe (`get --field` exact); this is a terminal
        from runtime.safe_text import printable

        out = printable(out, multiline=True)
    sys.stdout.write(out)
    sys.stderr.write(str(answer.get("err", "")))
    return int(answer.get("code", 70))
