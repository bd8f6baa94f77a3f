"""The agent and the app hold the Vault Key: no core file, and no debugger or /proc reading by
the user's other processes (Linux: not dumpable, RLIMIT_CORE 0). Real processes, read from /proc."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from clikit import REPO, agent_pid, cli_env, run_cli, short_runtime_dir

from vault.vault import Vault

PASSWORD = "process guard password"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="prctl and /proc are Linux's")


#: As root, both the process looked at and the reader run without capabilities: root's
#: CAP_SYS_PTRACE would read anything, and a capless reader may not read a process holding more
#: capabilities than itself. Not root: no change, the user's own processes are what we guard against.
NO_CAPS = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--"] if os.geteuid() == 0 else []


@pytest.fixture(autouse=True)
def _needs_setpriv() -> None:
    if NO_CAPS and not shutil.which("setpriv"):
        pytest.skip("as root this needs setpriv (util-linux) to drop capabilities")


def _dumpable(pid: int) -> bool:
    """Can another process of the same user read this one's memory-derived /proc files?

    That access (PTRACE_MODE_READ) needs the target dumpable (PR_GET_DUMPABLE 1)."""
    reader = subprocess.run(
        [*NO_CAPS, "cat", f"/proc/{pid}/environ"], capture_output=True, timeout=10
    )
    return reader.returncode == 0


def _core_limit(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max core file size"):
            return " ".join(line.split()[4:6])  # soft and hard
    raise AssertionError("no core limit in /proc/<pid>/limits")


def test_the_reader_tells_a_plain_process_apart() -> None:
    """The check itself: an ordinary child of ours is dumpable."""
    child = subprocess.Popen(
        [*NO_CAPS, sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stdout.readline() == b"ready\n"  # past setpriv
    try:
        assert _dumpable(child.pid)
    finally:
        child.kill()
        child.wait()


def test_the_agent_cannot_be_dumped_or_attached(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Vault.create(home, "ann@example.com", PASSWORD).close()
    env = cli_env(home, PASSWORD, XDG_RUNTIME_DIR=short_runtime_dir())
    unlocked = subprocess.run(
        [*NO_CAPS, sys.executable, "-m", "cli", "unlock"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unlocked.returncode == 0, unlocked.stderr
    try:
        pid = agent_pid(env)
        assert not _dumpable(pid)
        assert _core_limit(pid) == "0 0"
    finally:
        run_cli(env, "lock")


def test_the_app_cannot_be_dumped_or_attached(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Vault.create(home, "ann@example.com", PASSWORD).close()
    env = cli_env(home) | {"TERM": "xterm-256color"}
    command = [*NO_CAPS, sys.executable, "-m", "cli"]
    app = pexpect.spawn(
        command[0],
        command[1:],
        env=env,
        cwd=str(REPO),
        dimensions=(30, 100),
        timeout=60,
    )
    try:
        app.expect("Account Password")  # the lock screen is drawn: the app is running
        assert not _dumpable(app.pid)
        assert _core_limit(app.pid) == "0 0"
    finally:
        app.sendcontrol("q")
        app.expect(pexpect.EOF, timeout=20)
        app.close(force=True)
