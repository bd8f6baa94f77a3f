"""`kit --email`: the Kit email is built on the device and goes through a real SMTP server (aiosmtpd on
loopback), or into the outbox folder when no SMTP server is configured."""

from __future__ import annotations

import email
import subprocess
from email.message import Message
from email.policy import default
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from clikit import cli_env, free_port, run_cli

from vault.kitfile import read_kit_bytes

PASSWORD = "kit email password"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


def _cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(cli_env(home, PASSWORD, **env), *args, cwd=home.parent)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    r = _cli(h, "signup", "--email", "kit@example.com")
    assert r.returncode == 0, r.stderr
    return h


def _check(msg: Message, account_id: str) -> None:
    assert msg["To"] == "kit@example.com"
    assert msg["Subject"].startswith("IMPORTANT: Strongroom Account QR Code - ")
    parts = {p.get_filename(): p.get_payload(decode=True) for p in msg.walk() if p.get_filename()}
    assert set(parts) == {
        f"Strongroom-Authentication-Kit-{account_id}.png",
        f"Strongroom-Authentication-Kit-{account_id}.pdf",
    }
    kits = {read_kit_bytes(data).account_id for data in parts.values()}
    assert kits == {account_id}
    assert PASSWORD not in msg.as_string()


def test_kit_email_through_a_real_smtp_server(home: Path) -> None:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        r = _cli(home, "kit", "--email", STRONGROOM_SMTP=f"smtp://127.0.0.1:{port}")
        assert r.returncode == 0, r.stderr
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    rcpts, raw = inbox.messages[0]
    assert rcpts == ["kit@example.com"]
    account_id = _account_id(home)
    _check(email.message_from_bytes(raw, policy=default), account_id)


def _account_id(home: Path) -> str:
    from vault.vault import Vault

    v = Vault.open(home)
    try:
        return v.slot.account_id
    finally:
        v.close()


def test_kit_email_without_smtp_goes_to_the_outbox(home: Path) -> None:
    r = _cli(home, "kit", "--email")
    assert r.returncode == 0, r.stderr
    (eml,) = (home / "outbox").glob("*.eml")
    assert eml.stat().st_mode & 0o777 == 0o600
    _check(email.message_from_bytes(eml.read_bytes(), policy=default), _account_id(home))


def test_unreachable_smtp_server_is_a_sync_error(home: Path) -> None:
    port = free_port()
    r = _cli(home, "kit", "--email", STRONGROOM_SMTP=f"smtp://127.0.0.1:{port}")
    assert r.returncode == 4 and "cannot send email" in r.stderr and "Traceback" not in r.stderr
