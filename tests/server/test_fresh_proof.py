"""Credential changes need fresh proof; sessions are bound to a device, expire and are revoked
(issue 16, Build 3) — through a real server on 127.0.0.1, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync import method
from sync.cloud import (
    DEVICE_HEADER,
    CloudAuthError,
    CloudClient,
    CloudPasswordChangedError,
    CloudSession,
    CloudSync,
    credentials,
    follow_password_change,
    load_session,
)
from sync.server import srp6a
from sync.server.runner import ServerThread
from sync.server.service import ServerConfig
from sync.server.storage import LEGACY_GRACE_S, MIGRATIONS, SCHEMA_VERSION, Storage, token_hash
from vault import kdf
from vault import keys as keymod
from vault.vault import Vault

from .conftest import make_config
from .helpers import PASSWORD, add_login, sign_in, sign_up, titles

NEW_PASSWORD = "a much newer password"


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _headers(s: CloudSession, device: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {s.token}", DEVICE_HEADER: device or s.device_id}


def _account_row(server: ServerThread) -> tuple[Any, ...]:
    with server.app.service.db.tx(write=False) as t:
        return tuple(t.one("SELECT epoch, verifier, srp_salt, wrapped_vk, kdf_salt FROM accounts"))


def _proof(
    url: str, s: CloudSession, x_auth: bytes, method_: str, path: str, body: dict[str, Any]
) -> dict[str, str]:
    """A proof made by hand: fresh challenge, M with `x_auth`, MAC of `body` under K."""
    login = srp6a.ClientLogin(kdf.normalize_email(s.email), x_auth)
    ch = httpx.post(f"{url}/v1/proof/start", json={"A": _b64(login.a_pub)}, headers=_headers(s))
    assert ch.status_code == 200, ch.text
    d = ch.json()
    m = login.proof(base64.b64decode(d["srp_salt"]), base64.b64decode(d["B"]))
    assert m is not None
    mac = srp6a.bind(login.session_key(), method_, path, body)
    return {"challenge": d["challenge"], "M": _b64(m), "mac": _b64(mac)}


def _password_body(vault: Vault, s: CloudSession, new_password: str) -> dict[str, Any]:
    slot, keys = keymod.change_password(vault.slot, vault.keys, new_password)
    return {
        "epoch": s.epoch,
        "new_epoch": keys.epoch,
        "credentials": credentials(s.email, slot, keys.x_auth),
    }


def test_password_change_without_or_with_a_wrong_proof_changes_nothing(
    server: ServerThread, tmp_path: Path
) -> None:
    a, sa = sign_up(server.url, tmp_path / "a")
    add_login(a, "One")
    client = CloudClient(server.url)
    CloudSync(a, client, sa).sync_now()
    before = _account_row(server)
    body = _password_body(a, sa, NEW_PASSWORD)
    url = f"{server.url}/v1/password"
    # a token alone (what issue 16 found replaced the account's credentials): refused
    r = httpx.post(url, json=body, headers=_headers(sa))
    assert (r.status_code, r.json()["error"]) == (403, "proof_required"), r.text
    assert "nothing was changed" in r.json()["message"]
    # a proof made with a wrong password (wrong x_auth): refused
    wrong = keymod.auth_secret(
        a.slot.kit, a.keys.ak, kdf.derive_password_key("guess", a.slot.kit.salt, a.slot.kit.params)
    )
    proof = _proof(server.url, sa, wrong, "POST", "/v1/password", body)
    r = httpx.post(url, json=body | {"proof": proof}, headers=_headers(sa))
    assert (r.status_code, r.json()["error"]) == (403, "proof_failed"), r.text
    # a right proof lifted onto other credentials (MAC made for another body): refused
    other = _password_body(a, sa, "the attacker's password")
    proof = _proof(server.url, sa, a.keys.x_auth, "POST", "/v1/password", body)
    r = httpx.post(url, json=other | {"proof": proof}, headers=_headers(sa))
    assert (r.status_code, r.json()["error"]) == (403, "proof_failed"), r.text
    # ... and that challenge is used up, even for the body it was made for
    r = httpx.post(url, json=body | {"proof": proof}, headers=_headers(sa))
    assert (r.status_code, r.json()["error"]) == (403, "proof_failed"), r.text
    # a right proof asked for by another device's session of the account: refused
    b, sb = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
    proof = _proof(server.url, sb, b.keys.x_auth, "POST", "/v1/password", body)
    r = httpx.post(url, json=body | {"proof": proof}, headers=_headers(sa))
    assert (r.status_code, r.json()["error"]) == (403, "proof_failed"), r.text
    # nothing changed: the same verifier and wrapped key; both devices still sync and sign in
    assert _account_row(server) == before
    add_login(b, "Two")
    CloudSync(b, client, sb).sync_now()
    CloudSync(a, client, sa).sync_now()
    assert titles(a) == {"One", "Two"}
    client.signin_with_kit("alice@example.com", PASSWORD, a.slot.kit, "d3", "x")


def test_password_change_with_proof_and_other_devices_follow(
    server: ServerThread, tmp_path: Path
) -> None:
    a, sa = sign_up(server.url, tmp_path / "a")
    method.configure(a, "cloud", server=server.url)
    add_login(a, "One")
    client = CloudClient(server.url)
    CloudSync(a, client, sa).sync_now()
    b, sb = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
    method.change_password(a, NEW_PASSWORD)  # what `strongroom passwd` and the app's form call
    assert _account_row(server)[0] == 2 and a.slot.epoch == 2
    add_login(a, "Two")
    method.sync_now(a)
    with pytest.raises(CloudPasswordChangedError):
        CloudSync(b, client, sb).sync_now()
    sb = follow_password_change(b, client, NEW_PASSWORD)
    CloudSync(b, client, sb).sync_now()
    assert titles(b) == {"One", "Two"}
    # Account Key rotation: proven the same way; the other device adopts it with the new Kit
    method.rotate_account_key(a, NEW_PASSWORD)
    assert _account_row(server)[0] == 3
    with pytest.raises(CloudPasswordChangedError):
        CloudSync(b, client, sb).sync_now()
    sb = follow_password_change(b, client, NEW_PASSWORD, a.slot.kit)
    add_login(b, "Three")
    CloudSync(b, client, sb).sync_now()
    method.sync_now(a)
    assert titles(a) == titles(b) == {"One", "Two", "Three"}


def test_a_token_is_bound_to_its_device(server: ServerThread, tmp_path: Path) -> None:
    a, sa = sign_up(server.url, tmp_path / "a")
    pull = f"{server.url}/v1/sync/pull"
    body = {"generation": 1, "since": 0}
    assert httpx.post(pull, json=body, headers=_headers(sa)).status_code == 200
    for headers in (
        _headers(sa, "another-device"),
        {"Authorization": f"Bearer {sa.token}"},  # no device id at all
    ):
        r = httpx.post(pull, json=body, headers=headers)
        assert (r.status_code, r.json()["error"]) == (401, "wrong_device"), r.text
    r = httpx.get(f"{server.url}/v1/account", headers=_headers(sa, "x" * 300))
    assert r.status_code == 401
    # the client sends its own device id: a stolen session saved on another home is refused
    stolen = CloudSession(sa.token, sa.account_id, sa.email, "thief", 1, 1)
    with pytest.raises(CloudAuthError, match="another device"):
        CloudClient(server.url).status(stolen)


def _set_expiry(server: ServerThread, token: str, expires: int) -> None:
    with server.app.service.db.tx() as t:
        t.run("UPDATE sessions SET expires=? WHERE token_hash=?", (expires, token_hash(token)))


def _expiry(server: ServerThread, token: str) -> int:
    with server.app.service.db.tx(write=False) as t:
        return int(
            t.one("SELECT expires FROM sessions WHERE token_hash=?", (token_hash(token),))[0]
        )


def test_expired_session_is_refused_and_the_client_signs_in_again(
    server: ServerThread, tmp_path: Path
) -> None:
    a, sa = sign_up(server.url, tmp_path / "a")
    method.configure(a, "cloud", server=server.url)
    ttl = server.app.config.session_ttl_s
    assert 3600 <= ttl <= 24 * 3600  # hours, not the 90 days issue 16 found
    assert _expiry(server, sa.token) <= time.time() + ttl + 5
    # sliding: a used session's expiry moves ahead again
    _set_expiry(server, sa.token, int(time.time()) + 600)
    CloudClient(server.url).status(sa)
    assert _expiry(server, sa.token) >= time.time() + ttl - 5
    # expired: 401 session_expired on the wire ...
    add_login(a, "One")
    _set_expiry(server, sa.token, int(time.time()) - 1)
    r = httpx.get(f"{server.url}/v1/account", headers=_headers(sa))
    assert (r.status_code, r.json()["error"]) == (401, "session_expired")
    # ... and an unlocked device signs in again by itself, as the same device
    method.sync_now(a)
    renewed = load_session(a)
    assert renewed.token != sa.token and renewed.device_id == sa.device_id
    assert [d["device_id"] for d in CloudClient(server.url).devices(renewed)] == [a.device]
    # a password change on an expired session renews it first, then proves and changes
    _set_expiry(server, renewed.token, int(time.time()) - 1)
    method.change_password(a, NEW_PASSWORD)
    assert _account_row(server)[0] == 2
    method.sync_now(a)


def test_removed_device_is_revoked_and_removal_needs_proof(
    server: ServerThread, tmp_path: Path
) -> None:
    a, sa = sign_up(server.url, tmp_path / "a")
    b, sb = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
    client = CloudClient(server.url)
    url = f"{server.url}/v1/devices/{sb.device_id}"
    # the token alone cannot remove another device; a wrong proof neither
    r = httpx.request("DELETE", url, headers=_headers(sa))
    assert (r.status_code, r.json()["error"]) == (403, "proof_required"), r.text
    proof = _proof(server.url, sa, b"\0" * 32, "DELETE", f"/v1/devices/{sb.device_id}", {})
    r = httpx.request("DELETE", url, json={"proof": proof}, headers=_headers(sa))
    assert (r.status_code, r.json()["error"]) == (403, "proof_failed"), r.text
    # a proof for removing another device does not remove this one
    proof = _proof(server.url, sa, a.keys.x_auth, "DELETE", "/v1/devices/other", {})
    r = httpx.request("DELETE", url, json={"proof": proof}, headers=_headers(sa))
    assert (r.status_code, r.json()["error"]) == (403, "proof_failed"), r.text
    CloudSync(b, client, sb).sync_now()  # still signed in
    client.remove_device(sa, sb.device_id, a.keys.x_auth)
    assert [d["device_id"] for d in client.devices(sa)] == [sa.device_id]
    r = httpx.post(
        f"{server.url}/v1/sync/pull", json={"generation": 1, "since": 0}, headers=_headers(sb)
    )
    assert (r.status_code, r.json()["error"]) == (401, "device_removed"), r.text
    with pytest.raises(CloudAuthError, match="removed from the account"):
        CloudSync(b, client, sb).sync_now()  # not renewed behind the owner's back
    # the storage function the device-removal work uses: revokes every session of the device
    second = client.signin(a.slot.email, a.keys.x_auth, "second", "tablet").session
    assert server.app.service.db.revoke_device(a.slot.account_id, "second") == 1
    with pytest.raises(CloudAuthError, match="removed"):
        client.status(second)
    # a device signs itself out without a proof
    client.remove_device(sa, sa.device_id, b"")
    with pytest.raises(CloudAuthError):
        client.status(sa)


def _schema2_with_session(db_target: tuple[str, str | None], tmp_path: Path) -> tuple[Vault, str]:
    """A server database as the previous release left it (schema 2) holding a 90-day session of
    an account, and the device home that holds that session."""
    cfg = make_config(db_target, tmp_path)
    with ServerThread(cfg) as srv:
        a, sa = sign_up(srv.url, tmp_path / "a")
        add_login(a, "Before the upgrade")
        CloudSync(a, CloudClient(srv.url), sa).sync_now()
    db = Storage(*db_target, migrate=False)
    now = int(time.time())
    with db.tx() as t:  # back to schema 2: drop what migration 3 added, as `sessions` had it
        t.run("DELETE FROM schema_migrations WHERE version>=3")
        t.run("DROP INDEX envelopes_superseded")  # and what migration 4 added
        t.run("ALTER TABLE envelopes DROP COLUMN superseded")
        t.run("DROP TABLE blob_parts")  # and what migration 5 added
        t.run("DROP TABLE blobs")
        t.run("DROP TABLE key_changes")  # and what migration 6 added
        rows = t.all(
            "SELECT token_hash, account_id, device_id, generation, epoch, created FROM sessions"
        )
        t.run("DROP TABLE sessions")
        t.run("DROP TABLE srp_challenges")
        blob = "BYTEA" if db.pg else "BLOB"
        for stmt in MIGRATIONS[0]:
            if "TABLE sessions" in stmt or "TABLE srp_challenges" in stmt:
                t.run(stmt.format(blob=blob, bigint="BIGINT"))
        for r in rows:
            t.run(
                "INSERT INTO sessions (token_hash, account_id, device_id, generation, epoch, "
                "created, expires) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*r[:5], now, now + 90 * 86400),
            )
    db.close()
    return a, sa.token


def test_existing_sessions_migrate_and_an_old_home_is_not_locked_out(
    db_target: tuple[str, str | None], tmp_path: Path
) -> None:
    a, token = _schema2_with_session(db_target, tmp_path)
    cfg: ServerConfig = make_config(db_target, tmp_path)
    with ServerThread(cfg) as srv:
        assert srv.app.service.db.schema_version() == SCHEMA_VERSION >= 3
        method.configure(a, "cloud", server=srv.url)
        # the 90-day token keeps working until the stated cutoff, also without the device header
        # (a client of the previous release), and with it (this one)
        left = _expiry(srv, token) - time.time()
        assert LEGACY_GRACE_S - 60 < left <= LEGACY_GRACE_S + 5
        r = httpx.post(
            f"{srv.url}/v1/sync/pull",
            json={"generation": 1, "since": 0},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text
        assert method.sync_now(a).method == "cloud"
        assert load_session(a).token == token  # nothing renewed: still the old session
        # past the cutoff the old home signs in again by itself; nothing typed
        _set_expiry(srv, token, int(time.time()) - 1)
        add_login(a, "After the cutoff")
        method.sync_now(a)
        assert load_session(a).token != token
        b, _ = sign_in(srv.url, tmp_path / "b", "alice@example.com", a.slot.kit)
        assert titles(b) == {"Before the upgrade", "After the cutoff"}
        # and a password change from the old home works against the upgraded server
        method.change_password(a, NEW_PASSWORD)
        assert _account_row(srv)[0] == 2


def test_proof_mac_golden_vector() -> None:
    """The request MAC of a fresh proof (docs/formats.md "Fresh proof"), pinned byte for byte."""
    body = {"new_epoch": 2, "epoch": 1, "credentials": {"kdf": {"m": 65536, "t": 3, "p": 4}}}
    assert srp6a.canonical(body) == (
        b'{"credentials":{"kdf":{"m":65536,"p":4,"t":3}},"epoch":1,"new_epoch":2}'
    )
    mac = srp6a.bind(bytes(range(32)), "post", "/v1/password", body)
    assert mac.hex() == GOLDEN_MAC
    assert srp6a.bind(bytes(range(32)), "DELETE", "/v1/devices/d2", {}).hex() == GOLDEN_MAC_DELETE


GOLDEN_MAC = "702096e5eafd5d8a82477afd1a8c674f8cea453aae70fe1d4c213c58a9ebe250"
GOLDEN_MAC_DELETE = "34e30bf081be2c087ae18e30e9efa5a45bfda72c1ab20fb2915bdb999af50b7a"
