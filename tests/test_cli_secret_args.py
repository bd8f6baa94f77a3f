"""Secrets have a way in that `ps` does not show (issue 18, item 5).

Every local user can read a process's arguments. A field value, a Kit code and a reset code can
come from stdin instead (`-`), in a documented order after the --password-stdin line; the SMTP
password of `strongroom server` from STRONGROOM_SMTP_PASSWORD. A secret still given as an
argument works, with a warning on stderr.
"""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from clikit import account_home, cli_env, free_port, run_cli, run_on_terminal, short_runtime_dir

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


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made here (the server's mail client trusts it)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Inbox:
    """An SMTP server on loopback that wants STARTTLS and a login, and keeps what it is sent."""

    def __init__(self, folder: Path) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.cert, key = self_signed(folder)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.cert, key)
        self.logins: list[tuple[bytes, bool]] = []
        self.messages: list[bytes] = []

        def authenticate(
            server: object, session: object, envelope: object, mechanism: str, data: Any
        ) -> AuthResult:
            ok = (data.login, data.password) == (SMTP_USER.encode(), SMTP_PASSWORD.encode())
            self.logins.append((data.login, ok))
            return AuthResult(success=ok)

        self.port = free_port()
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=tls,
            require_starttls=True,
            authenticator=authenticate,
            auth_required=True,
        )

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        self.messages.append(bytes(envelope.content))
        return "250 OK"


@contextmanager
def account_server(
    tmp_path: Path, smtp: str, **env: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`strongroom server --smtp SMTP` until it answers: (its URL, its process)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "server", "--db", str(tmp_path / "s.db"), "--port", str(port)]
        + ["--outbox", str(tmp_path / "outbox"), "--smtp", smtp],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=cli_env(**env),
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{url}/openapi.json", timeout=2).close()
                break
            except OSError:
                assert proc.poll() is None, "the server stopped"
                time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_the_server_logs_in_to_smtp_with_the_password_from_the_environment(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    inbox.controller.start()
    trust = {"SSL_CERT_FILE": str(inbox.cert), "STRONGROOM_CA_FILE": str(inbox.cert)}
    smtp = f"smtp://{SMTP_USER}@127.0.0.1:{inbox.port}"
    try:
        with account_server(tmp_path, smtp, STRONGROOM_SMTP_PASSWORD=SMTP_PASSWORD, **trust) as (
            url,
            proc,
        ):
            argv = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
            assert SMTP_PASSWORD.encode() not in argv and smtp.encode() in argv
            r = run_cli(
                cli_env(tmp_path / "a", PW),
                "signup",
                "--email",
                EMAIL,
                "--server",
                url,
                "--kit-dir",
                str(tmp_path),
            )
            assert r.returncode == 0, r.stderr
            for _ in range(100):  # the "new device" email
                if inbox.messages:
                    break
                time.sleep(0.1)
        assert inbox.logins == [(SMTP_USER.encode(), True)]
        assert len(inbox.messages) == 1 and b"new device" in inbox.messages[0]
        inline = f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{inbox.port}"
        with account_server(tmp_path, inline, **trust) as (_, proc):
            pass
        said = proc.stderr.read().decode() if proc.stderr else ""
        assert "warning" in said and "STRONGROOM_SMTP_PASSWORD" in said
    finally:
        inbox.controller.stop()
