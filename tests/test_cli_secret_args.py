"""Secrets have a way in that `ps` does not show (issue 18, item 5).

Every local user can read a process's arguments. A field value, a Kit code and a reset code can
come from stdin instead (`-`), in a documented order after the --password-stdin line; the SMTP
password of `strongroom server` from STRONGROOM_SMTP_PASSWORD. A secret still given as an
argument works, with a warning on stderr.
"""

from __future__ import annotations

import ssl
import time
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from clikit import (
    account_home,
    cli_env,
    free_port,
    run_cli,
    run_on_terminal,
    server_process,
    short_runtime_dir,
)
from tlskit import Certs, make_certs

from vault.records import new_record

PW = "secret args password"
EMAIL = "ann@example.com"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    github = new_record("login", "GitHub", {"username": "ann", "password": "old-secret"})
    return account_home(tmp_path / "home", PW, github)


def value(home: Path, query: str, field: str) -> str:
    r = run_cli(cli_env(home, PW), "get", query, "--field", field)
    assert r.returncode == 0, r.stderr
    return r.stdout.removesuffix("\n")


def test_a_field_value_comes_from_stdin_after_the_password_line(home: Path) -> None:
    r = run_cli(
        cli_env(home),
        "add",
        "credit-card",
        "--title",
        "Card",
        "--field",
        "cvv=-",
        "--field",
        "cardholder=Bo",
        "--field",
        "pin=-",
        "--password-stdin",
        stdin=f"{PW}\n123\n4711\n",
    )
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert value(home, "Card", "cvv") == "123" and value(home, "Card", "pin") == "4711"
    r = run_cli(cli_env(home, PW), "edit", "GitHub", "--field", "password=-", stdin="new-one\n")
    assert r.returncode == 0 and r.stderr == "", r.stderr  # the password from the environment
    assert value(home, "GitHub", "password") == "new-one"


def test_a_missing_value_line_is_exit_2_and_changes_nothing(home: Path) -> None:
    r = run_cli(
        cli_env(home), "edit", "GitHub", "--field", "password=-", "--password-stdin", stdin=PW
    )
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "one line for each value given as -" in r.stderr
    assert value(home, "GitHub", "password") == "old-secret"


def test_a_secret_in_the_arguments_still_works_and_is_warned_about(home: Path) -> None:
    r = run_cli(cli_env(home, PW), "edit", "GitHub", "--field", "password=inline-secret")
    assert r.returncode == 0
    assert "warning" in r.stderr and "password=-" in r.stderr
    assert "inline-secret" not in r.stderr
    assert value(home, "GitHub", "password") == "inline-secret"
    quiet = run_cli(cli_env(home, PW), "edit", "GitHub", "--field", "username=not-secret")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_on_a_terminal_a_dash_value_is_asked_for_without_echo(home: Path) -> None:
    code, screen = run_on_terminal(
        cli_env(home, PW),
        "edit",
        "GitHub",
        "--field",
        "password=-",
        answers=[("password: ", "typed-secret")],
    )
    assert code == 0, screen
    assert "typed-secret" not in screen
    assert value(home, "GitHub", "password") == "typed-secret"


def test_through_the_unlock_agent_stdin_goes_with_the_command(home: Path) -> None:
    env = cli_env(home, XDG_RUNTIME_DIR=short_runtime_dir())
    assert run_cli(env | {"STRONGROOM_PASSWORD": PW}, "unlock", "--timeout", "2m").returncode == 0
    try:
        r = run_cli(env, "edit", "GitHub", "--field", "password=-", stdin="via-agent\n")
        assert r.returncode == 0 and r.stderr == "", r.stderr
        assert value(home, "GitHub", "password") == "via-agent"
    finally:
        run_cli(env, "lock")


def test_sign_in_takes_the_kit_code_from_stdin(tmp_path: Path) -> None:
    a, folder = tmp_path / "a", tmp_path / "Dropbox"
    folder.mkdir()
    env = cli_env(a, PW)
    assert run_cli(env, "signup", "--email", EMAIL, "--kit-dir", str(tmp_path)).returncode == 0
    assert run_cli(env, "sync", "folder", str(folder)).returncode == 0
    code = run_cli(env, "kit", "--code").stdout.strip()
    signin = ["signin", "--email", EMAIL, "--folder", str(folder), "--code", "-"]
    r = run_cli(cli_env(tmp_path / "b", PW), *signin, stdin=code + "\n")
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    r = run_cli(cli_env(tmp_path / "c"), *signin, "--password-stdin", stdin=f"{PW}\n{code}\n")
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    inline = ["signin", "--email", EMAIL, "--folder", str(folder), "--code", code]
    r = run_cli(cli_env(tmp_path / "d", PW), *inline)
    assert r.returncode == 0 and "--code - instead" in r.stderr, r.stderr
    assert code not in r.stderr


# -- strongroom server: the SMTP password from the environment -------------------------------

SMTP_USER, SMTP_PASSWORD = "mailer", "smtp p@ss:word/1"


class Mailbox:
    """An SMTP server on loopback that wants STARTTLS and this user's password; keeps the mail."""

    def __init__(self, certs: Certs) -> None:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(certs.cert, certs.key)
        self.logins: list[bool] = []
        self.messages: list[bytes] = []
        self.port = free_port()
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=tls,
            require_starttls=True,
            authenticator=self.authenticate,
            auth_required=True,
        )

    def authenticate(self, server: Any, session: Any, envelope: Any, how: str, data: Any) -> Any:
        self.logins.append(
            (data.login, data.password) == (SMTP_USER.encode(), SMTP_PASSWORD.encode())
        )
        return AuthResult(success=self.logins[-1])

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(bytes(envelope.content))
        return "250 OK"


def shown_by_ps(secret: str) -> bool:
    """Does any process's command line on this machine hold `secret` (what `ps` shows)?"""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if secret.encode() in cmdline.read_bytes():
                return True
        except OSError:
            continue  # the process ended meanwhile
    return False


def test_the_server_logs_in_to_smtp_with_the_password_from_the_environment(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs")
    mailbox = Mailbox(certs)
    mailbox.controller.start()
    trust = {"STRONGROOM_CA_FILE": str(certs.ca)}
    smtp = f"smtp://{SMTP_USER}@127.0.0.1:{mailbox.port}"
    db = ["--db", str(tmp_path / "s.db"), "--outbox", str(tmp_path / "outbox")]
    try:
        env = trust | {"STRONGROOM_SMTP_PASSWORD": SMTP_PASSWORD}
        with server_process(tmp_path, *db, "--smtp", smtp, env=env) as url:
            assert not shown_by_ps(SMTP_PASSWORD)
            signup = ["signup", "--email", EMAIL, "--server", url, "--kit-dir", str(tmp_path)]
            r = run_cli(cli_env(tmp_path / "a", PW), *signup)
            assert r.returncode == 0, r.stderr
            for _ in range(100):  # the "new device" email
                if mailbox.messages:
                    break
                time.sleep(0.1)
        assert mailbox.logins == [True] and len(mailbox.messages) == 1
        inline = f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{mailbox.port}"
        log = tmp_path / "server.err"
        with server_process(tmp_path, *db, "--smtp", inline, env=trust, stderr=log):
            pass
        said = log.read_text()
        assert "warning" in said and "STRONGROOM_SMTP_PASSWORD" in said
        assert SMTP_PASSWORD not in said
    finally:
        mailbox.controller.stop()


def test_an_agent_too_old_to_take_stdin_never_gets_a_dash_value(home: Path) -> None:
    """An agent started by an earlier Strongroom (protocol v2: its ping names no version) would
    ignore forwarded stdin and store a literal "-": the CLI runs such a command itself."""
    import json
    import socket
    import threading

    env = cli_env(home, PW, XDG_RUNTIME_DIR=short_runtime_dir())
    path = socket_path_for(env, home)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    seen: list[dict[str, Any]] = []

    def old_agent() -> None:  # answers as a v2 agent did: unlocked, no version in its ping
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                size = int.from_bytes(conn.recv(4), "big")
                frame = json.loads(conn.recv(size))
                seen.append(frame)
                body = json.dumps({"ok": True, "unlocked": True, "pid": 1}).encode()
                if frame.get("op") == "run":
                    body = json.dumps({"code": 0, "out": "", "err": ""}).encode()
                conn.sendall(len(body).to_bytes(4, "big") + body)

    threading.Thread(target=old_agent, daemon=True).start()
    try:
        r = run_cli(env, "edit", "GitHub", "--field", "password=-", stdin="from-stdin\n")
    finally:
        server.close()
    assert r.returncode == 0, r.stderr
    assert [f["op"] for f in seen] == ["ping"]  # no run reached the old agent
    assert value(home, "GitHub", "password") == "from-stdin"


def socket_path_for(env: dict[str, str], home: Path) -> str:
    """The socket a CLI with `env` looks for (same rule as agent.wire.socket_path, in that env)."""
    import os
    import subprocess
    import sys

    code = "import sys; from agent.wire import socket_path; print(socket_path(sys.argv[1]))"
    out = subprocess.run(
        [sys.executable, "-c", code, str(home)], env=env, capture_output=True, text=True, check=True
    )
    path = out.stdout.strip()
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    return path
