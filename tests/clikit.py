"""Running the real CLI in tests: a clean environment, the code under test, loopback ports.

Every CLI test runs `strongroom` in its own process, as a script would. This module is the one
place that decides what such a process sees: none of the caller's STRONGROOM_ settings, the
cheap test KDF (switched on explicitly), and this checkout first on the import path, so a test
runs the code under test even while the editable install is being rebuilt.
"""

from __future__ import annotations

import json
import os
import select
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vault.records import Record

REPO = Path(__file__).resolve().parent.parent


def cli_env(home: Path | None = None, password: str | None = None, **extra: str) -> dict[str, str]:
    """The environment for a CLI process: a device home and the password it unlocks with, if given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    env["STRONGROOM_INSECURE_TEST_KDF"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
    )
    if home is not None:
        env["STRONGROOM_HOME"] = str(home)
    if password is not None:
        env["STRONGROOM_PASSWORD"] = password
    return env | extra


def run_cli(
    env: Mapping[str, str] | Mapping[bytes, bytes],
    *args: str | bytes,
    cwd: Path | None = None,
    stdin: str | bytes = "",
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """`strongroom ARGS` in a new process; never waits on a terminal (stdin is `stdin`, then EOF).

    Arguments, environment and stdin may be bytes (a test of bad input); the output is read as
    UTF-8 as written, without newline translation (undecodable bytes as U+FFFD)."""
    done = subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env,
        cwd=cwd,
        input=stdin.encode() if isinstance(stdin, str) else stdin,
        capture_output=True,
        timeout=timeout,
    )
    out, err = (stream.decode(errors="replace") for stream in (done.stdout, done.stderr))
    return subprocess.CompletedProcess(done.args, done.returncode, out, err)


def account_home(home: Path, password: str, *records: Record) -> Path:
    """A device home with an account (ann@example.com) holding `records`, made in this process."""
    from vault.vault import Vault

    vault = Vault.create(home, "ann@example.com", password)
    if records:
        vault.add_many(list(records))
    vault.close()
    return home


def run_on_terminal(
    env: dict[str, str],
    *args: str,
    answers: Sequence[tuple[str, str]] = (),
    cwd: Path | None = None,
) -> tuple[int, str]:
    """`strongroom ARGS` on a pseudo-terminal (stdin, stdout, stderr and /dev/tty are the pty, so
    getpass prompts and isatty() is true), typing each answer after its prompt.
    (exit code, everything drawn, with the terminal's CR LF as LF)."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: a session leader on the pty, so /dev/tty is the pty
        if cwd is not None:
            os.chdir(cwd)
        os.execve(sys.executable, [sys.executable, "-m", "cli", *args], env)
    out = b""
    pending = list(answers)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
            if pending and pending[0][0].encode() in out:
                os.write(fd, pending.pop(0)[1].encode() + b"\n")
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    drawn = out.decode(errors="replace").replace("\r\n", "\n")
    assert not pending, f"never prompted for {pending[0][0]!r}: {drawn}"
    return os.waitstatus_to_exitcode(status), drawn


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def agent_pid(env: dict[str, str]) -> int:
    """The process id of the agent serving the home in `env` (the socket's peer credentials)."""
    import struct

    socks = list((Path(env["XDG_RUNTIME_DIR"]) / "strongroom").glob("agent-*.sock"))
    assert len(socks) == 1, socks
    s = socket.socket(socket.AF_UNIX)
    s.connect(str(socks[0]))
    raw = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    s.close()
    return int(struct.unpack("3i", raw)[0])


def short_runtime_dir() -> str:
    """A fresh XDG_RUNTIME_DIR under /tmp: the agent's socket path must fit in ~104 bytes (sun_path)."""
    return tempfile.mkdtemp(prefix="sr-", dir="/tmp")


@contextmanager
def server_process(
    cwd: Path,
    *args: str,
    ca_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    stderr: Path | None = None,
    stdout: Path | None = None,
) -> Iterator[str]:
    """`strongroom server ARGS` on a free loopback port, in `cwd`, until it answers; yields its
    URL (https when ARGS hold --tls-cert; `ca_file` is what the wait trusts then). `env` adds
    to its environment; what it says on stderr (stdout: its access log) goes to the file
    `stderr` (`stdout`), if given."""
    port = free_port()
    scheme = "https" if "--tls-cert" in args else "http"
    url = f"{scheme}://127.0.0.1:{port}"
    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
    files = {
        name: path.open("wb") for name, path in (("stderr", stderr), ("stdout", stdout)) if path
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "server", "--port", str(port), *args],
        stdout=files.get("stdout", subprocess.DEVNULL),
        stderr=files.get("stderr", subprocess.DEVNULL),
        env=cli_env(**(env or {})),
        cwd=cwd,
    )
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{url}/openapi.json", timeout=2, context=context) as r:
                    if "paths" in json.load(r):
                        break
            except OSError:
                assert proc.poll() is None, f"the server stopped (exit {proc.returncode})"
                time.sleep(0.1)
        else:
            raise AssertionError(f"the server at {url} did not answer")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        for f in files.values():
            f.close()
