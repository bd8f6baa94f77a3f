"""The unlock agent: type the password once, then commands work without it until the timeout."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clikit import account_home, agent_pid, cli_env, run_cli, short_runtime_dir

from vault.records import Record, new_record

PASSWORD = "agent test password"


def _env(tmp_path: Path, home: Path, **extra: str) -> dict[str, str]:
    return cli_env(home, XDG_RUNTIME_DIR=short_runtime_dir(), **extra)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(env, *args)


def _github() -> Record:
    return new_record("login", "GitHub", {"username": "ann", "password": "gh-secret-1"})


@pytest.fixture
def vault_home(tmp_path: Path) -> Path:
    return account_home(tmp_path / "home", PASSWORD, _github())


@pytest.fixture
def agent_env(tmp_path: Path, vault_home: Path):  # type: ignore[no-untyped-def]
    env = _env(tmp_path, vault_home)
    yield env
    _cli(env, "lock")


def _socket(env: dict[str, str]) -> Path:
    socks = list((Path(env["XDG_RUNTIME_DIR"]) / "strongroom").glob("agent-*.sock"))
    assert len(socks) == 1
    return socks[0]


def test_unlock_once_then_many_gets_without_password(agent_env: dict[str, str]) -> None:
    r = _cli(agent_env | {"STRONGROOM_PASSWORD": PASSWORD}, "unlock", "--timeout", "5m")
    assert r.returncode == 0, r.stderr
    for _ in range(100):
        r = _cli(agent_env, "get", "GitHub", "--field", "password")
        assert (r.returncode, r.stdout) == (0, "gh-secret-1\n"), r.stderr
    rid = _cli(agent_env, "add", "note", "--title", "Via agent").stdout.strip()
    assert _cli(agent_env, "get", rid, "--field", "title").stdout == "Via agent\n"
    r = _cli(agent_env, "get", "nothing")
    assert r.returncode == 1 and "no record" in r.stderr
    _cli(agent_env, "lock")
    r = _cli(agent_env, "get", "GitHub")
    assert r.returncode == 2 and "password" in r.stderr  # no agent, no password: asks again


def test_wrong_password_does_not_unlock(agent_env: dict[str, str]) -> None:
    r = _cli(agent_env | {"STRONGROOM_PASSWORD": "not it at all"}, "unlock")
    assert r.returncode == 3 and "wrong" in r.stderr.lower()
    r = _cli(agent_env, "get", "GitHub")
    assert r.returncode != 0


def test_idle_timeout_forgets_the_keys(agent_env: dict[str, str]) -> None:
    # 5 s: a CLI start on a loaded 2-core machine can take two, and the first get must be in time
    assert (
        _cli(agent_env | {"STRONGROOM_PASSWORD": PASSWORD}, "unlock", "--timeout", "5s").returncode
        == 0
    )
    assert _cli(agent_env, "get", "GitHub", "--field", "password").returncode == 0
    time.sleep(7)
    r = _cli(agent_env, "get", "GitHub", "--field", "password")
    assert r.returncode == 3 and "expired" in r.stderr
    r = _cli(agent_env | {"STRONGROOM_PASSWORD": PASSWORD}, "get", "GitHub", "--field", "password")
    assert r.stdout == "gh-secret-1\n"  # with the password it works without the agent


def test_malformed_and_oversized_requests_are_refused(agent_env: dict[str, str]) -> None:
    assert _cli(agent_env | {"STRONGROOM_PASSWORD": PASSWORD}, "unlock").returncode == 0
    path = str(_socket(agent_env))
    for payload in (
        struct.pack(">I", 50) + b"{not json" + b" " * 41,
        struct.pack(">I", 1 << 30),
        struct.pack(">I", 2) + b"[]",
        struct.pack(">I", 20) + b'{"v": 9, "op": "run"}'[:20],
        # JSON nested 100,000 deep: RecursionError left the agent's loop and it exited
        struct.pack(">I", 200_000) + b"[" * 100_000 + b"]" * 100_000,
        struct.pack(">I", 300_000) + b'{"a":' * 60_000 + b"1" + b"}" * 60_000,
    ):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(path)
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        answer = s.recv(1 << 16)
        s.close()
        assert b"code" in answer or answer == b""
        if len(payload) > 100_000:
            assert b"nested too deeply" in answer, answer
    r = _cli(agent_env, "get", "GitHub", "--field", "password")
    assert r.stdout == "gh-secret-1\n"


def test_no_secret_in_environment_argv_or_disk(agent_env: dict[str, str], vault_home: Path) -> None:
    assert _cli(agent_env | {"STRONGROOM_PASSWORD": PASSWORD}, "unlock").returncode == 0
    pid = agent_pid(agent_env)
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except PermissionError:  # not root: the agent is not dumpable, so no process of ours reads it
        environ = b""
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    assert PASSWORD.encode() not in environ and PASSWORD.encode() not in cmdline
    for f in Path(agent_env["XDG_RUNTIME_DIR"]).rglob("*"):
        if f.is_file():
            assert PASSWORD.encode() not in f.read_bytes()
    sock = _socket(agent_env)
    assert sock.stat().st_mode & 0o777 == 0o600
    assert sock.parent.stat().st_mode & 0o777 == 0o700
    os.kill(pid, 9)  # killing the agent loses nothing
    time.sleep(0.2)
    r = _cli(agent_env | {"STRONGROOM_PASSWORD": PASSWORD}, "get", "GitHub", "--field", "password")
    assert r.stdout == "gh-secret-1\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop privileges to another user")
def test_another_user_cannot_use_the_socket(agent_env: dict[str, str]) -> None:
    assert _cli(agent_env | {"STRONGROOM_PASSWORD": PASSWORD}, "unlock").returncode == 0
    path = str(_socket(agent_env))
    code = (
        "import os, socket, struct, sys\n"
        "os.setgid(65534); os.setuid(65534)\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        f"    s.connect({path!r})\n"
        '    s.sendall(struct.pack(\'>I\', 16) + b\'{"v":1,"op":"x"}\')\n'
        "    print('ANSWER', s.recv(100))\n"
        "except OSError as e:\n"
        "    print('DENIED', e.errno)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert "DENIED" in r.stdout or "ANSWER b''" in r.stdout, r.stdout + r.stderr


def test_protocol_versions_keep_old_clients_working(
    agent_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """v1 requests (an older CLI) are still served; the TUI's `keys` op needs v2; unknown versions are refused."""
    from agent.wire import call_raw

    assert _cli(agent_env | {"STRONGROOM_PASSWORD": PASSWORD}, "unlock").returncode == 0
    monkeypatch.setenv("XDG_RUNTIME_DIR", agent_env["XDG_RUNTIME_DIR"])
    home = agent_env["STRONGROOM_HOME"]
    answer = call_raw(home, {"v": 1, "op": "run", "argv": ["get", "GitHub", "--field", "password"]})
    assert answer is not None and answer["out"] == "gh-secret-1\n"
    answer = call_raw(home, {"v": 1, "op": "keys"})
    assert (
        answer is not None
        and answer["code"] == 2
        and "version 2" in answer["err"]
        and "vk" not in answer
    )
    answer = call_raw(home, {"v": 6, "op": "ping"})
    assert answer is not None and answer["code"] == 2 and "ok" not in answer
    answer = call_raw(home, {"v": 4, "op": "ssh_answer"})  # answering SSH questions is v5
    assert answer is not None and answer["code"] == 2 and "version 5" in answer["err"]
    answer = call_raw(home, {"v": 3, "op": "ssh_list"})  # the SSH agent's ops are v4
    assert answer is not None and answer["code"] == 2 and "version 4" in answer["err"]
    answer = call_raw(home, {"v": 2, "op": "keys"})
    assert answer is not None and answer["ok"] and len(answer["vk"]) > 40


def test_default_home_reaches_the_agent_without_importing_platformdirs(tmp_path: Path) -> None:
    """No --home, no STRONGROOM_HOME: the fast path finds the default home's agent; after the first
    call it reads the remembered default home instead of importing platformdirs (~12 ms)."""
    user_home = tmp_path / "u"
    user_home.mkdir()
    env = cli_env(HOME=str(user_home), XDG_RUNTIME_DIR=short_runtime_dir())
    env.pop("XDG_DATA_HOME", None)
    where = subprocess.run(
        [sys.executable, "-c", "from vault.home import default_home; print(default_home())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(user_home))
    account_home(Path(where), PASSWORD, _github())

    def entry(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "cli.entry", *args],
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )

    try:
        assert _cli(env | {"STRONGROOM_PASSWORD": PASSWORD}, "unlock").returncode == 0
        for _ in range(2):
            r = entry(env, "get", "GitHub", "--field", "password")
            assert (r.returncode, r.stdout) == (0, "gh-secret-1\n"), r.stderr
        assert (
            "platformdirs" not in r.stderr
            and " hashlib" not in r.stderr
            and "| socket" not in r.stderr
        )
        other = env | {
            "XDG_DATA_HOME": str(tmp_path / "elsewhere")
        }  # another default home: not this agent
        r = entry(other, "get", "GitHub", "--field", "password")
        assert r.returncode != 0 and r.stdout == ""
    finally:
        _cli(env, "lock")


def test_attach_ls_and_rm_go_through_the_agent_and_file_bytes_stay_local(
    agent_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the agent unlocked, `attach ls` and `attach rm` need no password; `attach add` and
    `attach get` move a file's bytes to and from this process's paths and stdout, so they run
    here, with the password, and the agent refuses them if asked directly (exit 2, never 70)."""
    from agent.wire import call_raw

    src = tmp_path / "codes.txt"
    src.write_bytes(b"recovery codes\n")
    with_pw = agent_env | {"STRONGROOM_PASSWORD": PASSWORD}
    assert _cli(with_pw, "unlock", "--timeout", "5m").returncode == 0
    r = _cli(agent_env, "attach", "add", "GitHub", str(src))
    assert r.returncode == 2 and "password" in r.stderr  # not through the agent: asks
    assert _cli(with_pw, "attach", "add", "GitHub", str(src)).returncode == 0
    r = _cli(agent_env, "attach", "ls", "GitHub", "--json")
    assert r.returncode == 0 and '"name": "codes.txt"' in r.stdout, r.stderr
    got = subprocess.run(
        [sys.executable, "-m", "cli", "attach", "get", "GitHub", "codes.txt"],
        env=with_pw,
        capture_output=True,
        check=False,
    )
    assert got.returncode == 0 and got.stdout == b"recovery codes\n"
    monkeypatch.setenv("XDG_RUNTIME_DIR", agent_env["XDG_RUNTIME_DIR"])
    home = agent_env["STRONGROOM_HOME"]
    for argv in (["attach", "get", "GitHub", "codes.txt"], ["attach", "add", "GitHub", str(src)]):
        answer = call_raw(home, {"v": 1, "op": "run", "argv": argv})
        assert answer is not None and answer["code"] == 2, answer
        assert f"attach {argv[1]} does not run through the agent" in answer["err"]
    r = _cli(agent_env, "attach", "rm", "GitHub", "codes.txt")
    assert r.returncode == 0, r.stderr
    assert _cli(agent_env, "attach", "ls", "GitHub").stdout == ""
