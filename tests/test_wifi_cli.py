"""Wi-Fi sync through the CLI, as a person would: one device serves, a new one signs in from it over
real zeroconf + TCP on 127.0.0.1 only, then changes flow with `sync now`."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from clikit import cli_env, run_cli

PW = "wifi cli password"


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(cli_env(home, PW), *args, cwd=home.parent, timeout=90)


def test_serve_signin_and_sync_now_over_loopback(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    account = cli(a, "signup", "--email", "w@example.com").stdout.strip()
    assert cli(a, "add", "login", "--title", "Shared", "--field", "password=s1").returncode == 0
    assert cli(a, "sync", "wifi", "--interface", "127.0.0.1").returncode == 0
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "sync", "serve"],
        env=cli_env(a, PW),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        assert "Reachable" in server.stderr.readline()
        kit = tmp_path / f"Strongroom-Authentication-Kit-{account}.png"
        r = cli(
            b,
            "signin",
            "--email",
            "w@example.com",
            "--kit",
            str(kit),
            "--wifi",
            "--interface",
            "127.0.0.1",
        )
        assert r.returncode == 0, r.stderr
        assert cli(b, "get", "Shared", "--field", "password").stdout == "s1\n"
        assert cli(b, "add", "note", "--title", "From B").returncode == 0
        r = cli(b, "sync", "now")
        assert r.returncode == 0 and "1 peer synced" in r.stderr, r.stderr
        assert cli(a, "get", "From B", "--field", "title").stdout == "From B\n"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    assert server.returncode == 0
    time.sleep(0.2)
    r = cli(b, "sync", "now")  # nobody serves any more
    assert r.returncode == 4 and "no device of this account answered" in r.stderr
    r = cli(
        tmp_path / "c", "signin", "--email", "w@example.com", "--wifi", "--interface", "127.0.0.1"
    )
    assert r.returncode == 2 and "Authentication Kit" in r.stderr


def _serve(home: Path, password: str) -> subprocess.Popen[str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "sync", "serve"],
        env=cli_env(home, password),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stderr is not None and "Reachable" in server.stderr.readline()
    return server


def _stop(server: subprocess.Popen[str]) -> None:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=20)


def test_sync_now_adopts_a_password_changed_on_the_wifi_peer(tmp_path: Path) -> None:
    """A changed the password; B's `sync now` is refused by A, which hands over its new key slot:
    with the new password given, B adopts it and syncs; without it, B says how to give it."""
    a, b = tmp_path / "a", tmp_path / "b"
    new = "the password changed on A"
    account = cli(a, "signup", "--email", "w@example.com").stdout.strip()
    assert cli(a, "sync", "wifi", "--interface", "127.0.0.1").returncode == 0
    server = _serve(a, PW)
    try:
        kit = tmp_path / f"Strongroom-Authentication-Kit-{account}.png"
        r = cli(
            b,
            "signin",
            "--email",
            "w@example.com",
            "--kit",
            str(kit),
            "--wifi",
            "--interface",
            "127.0.0.1",
        )
        assert r.returncode == 0, r.stderr
    finally:
        _stop(server)
    (tmp_path / "newkit").mkdir()
    r = run_cli(
        cli_env(a, PW, STRONGROOM_NEW_PASSWORD=new),
        "passwd",
        "--kit-dir",
        str(tmp_path / "newkit"),
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert run_cli(cli_env(a, new), "add", "note", "--title", "After the change").returncode == 0
    server = _serve(a, new)
    try:
        r = cli(b, "sync", "now")  # no new password given: exit 3, saying how, nothing lost
        assert r.returncode == 3 and "STRONGROOM_NEW_PASSWORD" in r.stderr, r.stderr
        r = run_cli(cli_env(b, PW, STRONGROOM_NEW_PASSWORD="not the new one"), "sync", "now")
        assert r.returncode == 3 and "Traceback" not in r.stderr, r.stderr
        r = run_cli(cli_env(b, PW, STRONGROOM_NEW_PASSWORD=new), "sync", "now")
        assert r.returncode == 0 and "Adopted" in r.stderr and "1 peer synced" in r.stderr, r.stderr
    finally:
        _stop(server)
    assert (
        run_cli(cli_env(b, new), "get", "After the change", "--field", "title").stdout
        == "After the change\n"
    )
    assert run_cli(cli_env(b, PW), "ls").returncode == 3  # the old password no longer opens B
