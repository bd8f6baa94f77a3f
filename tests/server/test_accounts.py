"""Sign-up, sign-in, sync between two devices, password change, devices — through a real server."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from sync.cloud import (
    CloudAuthError,
    CloudClient,
    CloudPasswordChangedError,
    CloudSync,
    follow_password_change,
    save_session,
)
from sync.server import srp6a
from sync.server.runner import ServerThread
from vault.errors import WrongPasswordError
from vault.keys import create_account

from .helpers import PASSWORD, add_login, sign_in, sign_up, titles


def test_signup_signin_and_two_devices_converge(server: ServerThread, tmp_path: Path) -> None:
    a, sa = sign_up(server.url, tmp_path / "a")
    add_login(a, "Bank")
    add_login(a, "Mail")
    client = CloudClient(server.url)
    rep = CloudSync(a, client, sa).sync_now()
    assert rep.sent >= 2
    b, sb = sign_in(server.url, tmp_path / "b", "Alice@Example.com ", a.slot.kit)
    assert titles(b) == {"Bank", "Mail"}
    # concurrent edits on both devices, then both sync twice: same state everywhere
    rid = next(s.id for s in a.summaries() if s.title == "Bank")
    ra, rb = a.record(rid), b.record(rid)
    from dataclasses import replace

    a.update(replace(ra, title="Bank A"))
    b.update(replace(rb, title="Bank B"))
    add_login(b, "Shop")
    for _ in range(2):
        CloudSync(a, client, sa).sync_now()
        CloudSync(b, client, sb).sync_now()
    assert titles(a) == titles(b)
    assert "Shop" in titles(a)
    winner = a.detail(rid)
    assert winner.record.title in {"Bank A", "Bank B"}
    devices = client.devices(sa)
    assert {d["name"] for d in devices} == {"laptop", "phone"}


def test_wrong_password_and_wrong_account_key_fail(server: ServerThread, tmp_path: Path) -> None:
    a, _ = sign_up(server.url, tmp_path / "a")
    client = CloudClient(server.url)
    with pytest.raises(WrongPasswordError):
        client.signin_with_kit("alice@example.com", "not it", a.slot.kit, "dev2", "x")
    # Right password, wrong Account Key: a Kit from another account with the same password
    other, _ = create_account("alice@example.com", PASSWORD)
    with pytest.raises(Exception) as exc:
        client.signin_with_kit("alice@example.com", PASSWORD, other.kit, "dev2", "x")
    assert exc.type.__name__ in ("KitError", "CloudAuthError")
    # and an x_auth that is not the account's fails SRP
    with pytest.raises(CloudAuthError):
        client.signin("alice@example.com", b"\x00" * 32, "dev2", "x")


def _shape(answer: dict[str, object]) -> dict[str, object]:
    """What an answer reveals besides its random values: keys, types and the sizes that are fixed.
    B is a random group element sent without leading zero bytes (so its length varies by chance,
    for every email alike): it is shown by whether it is one (1 < B < N, at most the group's size)."""
    out: dict[str, object] = {}
    for key, value in answer.items():
        if key == "B":
            raw = base64.b64decode(str(value), validate=True)
            number = int.from_bytes(raw, "big")
            out[key] = ("group element", len(raw) <= srp6a.GROUP_BYTES and 1 < number < srp6a.N)
        elif key == "srp_salt":
            out[key] = ("bytes", len(base64.b64decode(str(value), validate=True)))
        elif isinstance(value, str):
            out[key] = ("str", len(value))
        else:
            out[key] = (type(value).__name__, value)
    return out


def test_prelogin_same_answer_shape_for_unknown(server: ServerThread, tmp_path: Path) -> None:
    sign_up(server.url, tmp_path / "a")
    client = CloudClient(server.url)
    known = client.prelogin("alice@example.com")
    unknown = client.prelogin("nobody@example.com")
    assert unknown == client.prelogin("nobody@example.com")  # stable
    assert known[0] == unknown[0] and len(known[1]) == len(unknown[1]) and known[1] != unknown[1]
    answers = []
    for email in ("alice@example.com", "nobody@example.com") * 3:
        r = httpx.post(f"{server.url}/v1/signin/start", json={"email": email, "A": "AAE="})
        assert r.status_code == 200, r.text
        answers.append((email, r.json(), r.headers.get("content-type")))
    # Every answer has one shape, known or not: the same keys, types, salt and challenge sizes
    # and a B that is a group element; the random values differ from answer to answer.
    assert {repr(_shape(a)) for _, a, _ in answers} == {
        repr(
            {
                "challenge": ("str", 32),
                "srp_salt": ("bytes", srp6a.SALT_LEN),
                "B": ("group element", True),
            }
        )
    }
    assert len({ctype for *_, ctype in answers}) == 1
    assert len({a["B"] for _, a, _ in answers}) == len(answers)
    # the salt of an unknown email is as stable as a real one's (a fresh one would tell)
    assert len({a["srp_salt"] for email, a, _ in answers if email.startswith("nobody")}) == 1
    assert len({a["srp_salt"] for email, a, _ in answers if email.startswith("alice")}) == 1


def test_password_change_other_device_follows(server: ServerThread, tmp_path: Path) -> None:
    a, sa = sign_up(server.url, tmp_path / "a")
    add_login(a, "One")
    client = CloudClient(server.url)
    CloudSync(a, client, sa).sync_now()
    b, sb = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
    old_kit = a.slot.kit
    current = a.keys.x_auth
    new_slot = a.change_password("a much newer password")
    sa = client.change_password(sa, new_slot, a.keys, current=current)
    save_session(a, sa)
    add_login(a, "Two")
    CloudSync(a, client, sa).sync_now()
    # b is stale: it cannot write, and is told why
    add_login(b, "Three")
    with pytest.raises(CloudPasswordChangedError):
        CloudSync(b, client, sb).sync_now()
    with pytest.raises(WrongPasswordError):
        follow_password_change(b, client, "wrong guess")
    sb = follow_password_change(b, client, "a much newer password")
    assert b.slot.epoch == 2 and sb.epoch == 2
    CloudSync(b, client, sb).sync_now()
    CloudSync(a, client, sa).sync_now()
    assert titles(a) == titles(b) == {"One", "Two", "Three"}
    # the old Kit cannot sign in a new device any more; the new one can
    from vault.errors import KitError

    with pytest.raises(KitError, match="outdated"):
        client.signin_with_kit("alice@example.com", "a much newer password", old_kit, "d3", "x")
    client.signin_with_kit("alice@example.com", "a much newer password", a.slot.kit, "d3", "x")
