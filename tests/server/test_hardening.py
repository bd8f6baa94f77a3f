"""Rate limits, size limits, account isolation, real SMTP (aiosmtpd on loopback), session hygiene."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from clikit import free_port

from sync.cloud import CloudAuthError, CloudClient, CloudRateLimitedError, CloudSync
from sync.server.runner import ServerThread
from sync.server.service import Limit, Limits

from .conftest import make_config
from .helpers import add_login, sign_in, sign_up, titles


def test_signin_rate_limit_per_account_and_address(
    db_target: tuple[str, str | None], tmp_path: Path
) -> None:
    limits = Limits(
        signin_account=Limit(4, 900),
        signin_address=Limit(10, 900),
        email_account=Limit(2, 3600),
        email_address=Limit(100, 3600),
    )
    with ServerThread(make_config(db_target, tmp_path, limits=limits)) as server:
        sign_up(server.url, tmp_path / "a")
        client = CloudClient(server.url)
        # known and unknown: same behaviour (alice's sign-up already used one sign-in)
        for email, tries in (("alice@example.com", 3), ("nobody@example.com", 4)):
            for _ in range(tries):
                with pytest.raises(CloudAuthError):
                    client.signin(email, b"\x01" * 32, "d1", "x")
            with pytest.raises(CloudRateLimitedError) as exc:
                client.signin(email, b"\x01" * 32, "d1", "x")
            assert exc.value.status == 429
        # the address limit trips for a third email too
        with pytest.raises(CloudRateLimitedError):
            client.signin("carol@example.com", b"\x01" * 32, "d1", "x")
        # hint and reset requests: per account
        for email in ("alice@example.com", "nobody@example.com"):
            client.request_hint(email)
            client.request_reset(email)
            with pytest.raises(CloudRateLimitedError):
                client.request_hint(email)
        r = httpx.post(f"{server.url}/v1/hint", json={"email": "alice@example.com"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_request_size_limits(db_target: tuple[str, str | None], tmp_path: Path) -> None:
    with ServerThread(
        make_config(db_target, tmp_path, max_body=200_000, max_small_body=4096)
    ) as server:
        r = httpx.post(
            f"{server.url}/v1/prelogin",
            content=b"{" + b" " * 10_000 + b"}",
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 413 and r.json()["error"] == "too_large"

        def chunks():  # no Content-Length: counted while streaming
            for _ in range(20):
                yield b" " * 1000

        r = httpx.post(f"{server.url}/v1/prelogin", content=chunks())
        assert r.status_code == 413
        _, s = sign_up(server.url, tmp_path / "a")
        big = {
            "generation": 1,
            "epoch": 1,
            "envelopes": [base64.b64encode(b"x" * 300_000).decode()],
        }
        r = httpx.post(
            f"{server.url}/v1/sync/push", json=big, headers={"Authorization": f"Bearer {s.token}"}
        )
        assert r.status_code == 413


def test_accounts_are_isolated(server: ServerThread, tmp_path: Path) -> None:
    a, sa = sign_up(server.url, tmp_path / "a", "alice@example.com")
    b, sb = sign_up(server.url, tmp_path / "b", "bob@example.com")
    add_login(a, "Alice only")
    add_login(b, "Bob only")
    client = CloudClient(server.url)
    CloudSync(a, client, sa).sync_now()
    CloudSync(b, client, sb).sync_now()
    # B's session pulls only B's envelopes, and pushing A's envelopes lands in B's account only
    pulled = [e for envs, _, _ in client.pull(sb, 0) for e in envs]
    assert {e.record_id for e in pulled} == {s.id for s in b.summaries()}
    client.push(sb, a.store.all_versions())
    a2, _ = sign_in(server.url, tmp_path / "a2", "alice@example.com", a.slot.kit)
    assert titles(a2) == {"Alice only"}
    # B cannot sign out A's device, and a forged token is refused
    with pytest.raises(Exception, match="no such device"):
        client.remove_device(sb, a.device, b.keys.x_auth)
    r = httpx.post(
        f"{server.url}/v1/sync/pull",
        json={"generation": 1, "since": 0},
        headers={"Authorization": "Bearer " + sa.token[:-2] + "xx"},
    )
    assert r.status_code == 401


def test_sign_out_a_device(server: ServerThread, tmp_path: Path) -> None:
    a, sa = sign_up(server.url, tmp_path / "a")
    b, sb = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
    client = CloudClient(server.url)
    client.remove_device(sa, sb.device_id, a.keys.x_auth)
    assert [d["name"] for d in client.devices(sa)] == ["laptop"]
    with pytest.raises(CloudAuthError, match="removed from the account"):
        CloudSync(b, client, sb).sync_now()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))  # type: ignore[attr-defined]
        return "250 OK"


def test_email_by_real_smtp(db_target: tuple[str, str | None], tmp_path: Path) -> None:
    inbox = _Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        config = make_config(db_target, tmp_path, smtp_url=f"smtp://127.0.0.1:{port}")
        with ServerThread(config) as server:
            a, _ = sign_up(
                server.url, tmp_path / "a"
            )  # first sign-in of a device: "new device" email
            CloudClient(server.url).request_hint("alice@example.com")
            deadline = time.monotonic() + 5
            while len(inbox.messages) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        subjects = [m.split(b"Subject: ")[1].split(b"\r\n")[0] for _, m in inbox.messages]
        assert b"Strongroom: a new device signed in" in subjects
        assert b"Strongroom: your password hint" in subjects
        hint_mail = next(m for _, m in inbox.messages if b"hint" in m.split(b"Subject: ")[1][:40])
        assert b"horses" in hint_mail
        assert all(r == ["alice@example.com"] for r, _ in inbox.messages)
        assert not config.outbox.exists() or not list(config.outbox.iterdir())
    finally:
        smtp.stop()
