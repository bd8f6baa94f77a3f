"""Removing a device on an account synced through the real account server (issue 16 Build 2),
on SQLite and PostgreSQL, driven by the real CLI: the key change rides the epoch compare-and-swap
of POST /v1/password with a fresh proof, the removed device's sessions are revoked (401
device_removed, and it says who removed it), the remaining devices follow with nothing typed,
also one offline during the removal, and the server holds nothing the old key opens."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from clikit import cli_env, run_cli

from sync.cloud import DEVICE_HEADER, TOKEN_META
from sync.server.runner import ServerThread
from sync.server.storage import Storage
from vault.envelope import Envelope, RecordCipher
from vault.vault import Vault

PW = "server removal password 7"
EMAIL = "ann@example.com"


def cli(home: Path, *args: str, password: str | None = PW):  # type: ignore[no-untyped-def]
    return run_cli(cli_env(home, password), *args, cwd=home.parent)


def ok(home: Path, *args: str) -> str:
    r = cli(home, *args)
    assert r.returncode == 0, f"{args}: {r.stderr}"
    return r.stdout


def this_id(home: Path) -> str:
    return next(d["id"] for d in json.loads(ok(home, "devices", "--json")) if d["this_device"])


def test_remove_a_device_over_the_server(
    server: ServerThread, db_target: tuple[str, str | None], tmp_path: Path
) -> None:
    a, b, c = (tmp_path / n for n in "abc")
    url = server.url
    account = ok(a, "signup", "--email", EMAIL, "--server", url, "--kit-dir", str(tmp_path))
    account = account.strip()
    kit = tmp_path / f"Strongroom-Authentication-Kit-{account}.png"
    ok(a, "add", "login", "--title", "GitHub", "--field", "password=one")
    ok(a, "sync", "now")
    for home in (b, c):
        ok(home, "signin", "--email", EMAIL, "--kit", str(kit), "--server", url)
        ok(home, "sync", "now")
    ok(a, "sync", "now")
    x = this_id(b)
    assert len(json.loads(ok(a, "devices", "--json"))) == 3
    old = Vault.open(b)
    old.unlock(PW)
    old_keys, session = old.keys, json.loads(old.store.get_meta(TOKEN_META) or b"{}")
    old.close()

    # c is offline from here; a removes b
    r = cli(a, "devices", "rm", x, "--kit-dir", str(tmp_path / "new"))
    assert r.returncode == 0, r.stderr
    ok(a, "add", "login", "--title", "After removal", "--field", "password=two")
    ok(a, "sync", "now")

    # the removed device: 401 device_removed, naming who removed it; nothing new reaches it
    r = cli(b, "sync", "now")
    assert r.returncode == 3, r.stderr
    assert f"removed from the account by device {this_id(a)}" in r.stderr
    assert "After removal" not in ok(b, "ls")
    got = httpx.post(
        f"{url}/v1/sync/pull",
        json={"generation": 1, "since": 0, "limit": 10},
        headers={"Authorization": f"Bearer {session['token']}", DEVICE_HEADER: x},
    )
    assert got.status_code == 401 and got.json()["error"] == "device_removed"
    # the server holds nothing the old key opens
    old_cipher = RecordCipher(account, old_keys.subkey("records"))
    with Storage(*db_target).tx() as t:
        bodies = [bytes(r[0]) for r in t.all("SELECT body FROM envelopes")]
    assert bodies
    for raw in bodies:
        env = Envelope.from_bytes(raw)
        try:
            old_cipher.authenticate(env)
        except Exception:  # noqa: BLE001 - any refusal is the point
            continue
        raise AssertionError(f"{env.record_id} still opens with the removed device's key")

    # c, offline during the removal, follows with nothing typed
    ok(c, "sync", "now")
    assert ok(c, "get", "After removal", "--field", "password") == "two\n"
    assert ok(c, "get", "GitHub", "--field", "password") == "one\n"
    assert x not in {d["id"] for d in json.loads(ok(c, "devices", "--json"))}
    ok(c, "add", "note", "--title", "From C")
    ok(c, "sync", "now")
    ok(a, "sync", "now")
    assert ok(a, "get", "From C", "--field", "title") == "From C\n"
    # no record is shown twice or in conflict after the re-encryption
    listed = json.loads(ok(a, "ls", "--json"))
    assert sorted(r["title"] for r in listed) == ["After removal", "From C", "GitHub"]
    assert not any(r.get("conflict") for r in listed)

    # the old Kit and password no longer sign in; the new Kit does
    r = cli(tmp_path / "x2", "signin", "--email", EMAIL, "--kit", str(kit), "--server", url)
    assert r.returncode == 3, r.stderr
    print("old Kit at the server:", r.stderr)
    new_kit = tmp_path / "new" / f"Strongroom-Authentication-Kit-{account}.png"
    d = tmp_path / "d"
    ok(d, "signin", "--email", EMAIL, "--kit", str(new_kit), "--server", url)
    assert ok(d, "get", "From C", "--field", "title") == "From C\n"


def test_a_malformed_or_foreign_key_change_is_refused_with_400(
    server: ServerThread, tmp_path: Path
) -> None:
    """Bytes that are no key change of this account and epoch: 400 with the reason, before any
    proof is looked at; nothing changes (never a 500)."""
    import base64

    from sync.cloud import CloudClient, credentials

    from .helpers import sign_up

    a, session = sign_up(server.url, tmp_path / "a")
    body = {
        "epoch": 1,
        "new_epoch": 2,
        "credentials": credentials(session.email, a.slot, a.keys.x_auth),
    }
    headers = {"Authorization": f"Bearer {session.token}", DEVICE_HEADER: session.device_id}
    for junk in (b"", b"SRKC\x01", b"\x00" * 300, b"SRKC\x01\x00\x00\x00\x02{}"):
        r = httpx.post(
            f"{server.url}/v1/password",
            json=body | {"key_change": base64.b64encode(junk).decode()},
            headers=headers,
        )
        assert r.status_code == 400, r.text
    assert CloudClient(server.url).prelogin(session.email)[1] == a.slot.kit.salt
    a.close()


def test_a_removal_behind_the_server_is_refused_and_nothing_is_dropped(
    server: ServerThread, tmp_path: Path
) -> None:
    """Another device pushed after the remover last pulled: 409 behind, the account unchanged
    and nothing dropped (its version would have been lost with the old-key envelopes)."""
    import pytest

    from sync.cloud import REV_META, CloudBehindError, CloudClient, CloudSync
    from vault import devices, removal

    from .helpers import PASSWORD, add_login, sign_in, sign_up

    client = CloudClient(server.url)
    a, sa = sign_up(server.url, tmp_path / "a")
    devices.touch(a, "cloud")
    CloudSync(a, client, sa).sync_now()
    b, sb = sign_in(server.url, tmp_path / "b", sa.email, a.slot.kit)
    devices.touch(b, "cloud")
    CloudSync(b, client, sb).sync_now()
    CloudSync(a, client, sa).sync_now()
    made = removal.prepare(a, b.device, PASSWORD)
    CloudSync(a, client, sa).sync_now()
    pulled = int(a.store.get_meta(REV_META) or b"0")
    add_login(b, "Pushed meanwhile")
    CloudSync(b, client, sb).sync_now()
    with pytest.raises(CloudBehindError, match="sync, then"):
        client.change_password(
            sa,
            made.slot,
            made.keys,
            current=a.keys.x_auth,
            key_change=made.sealed,
            revision=pulled,
        )
    assert CloudClient(server.url).prelogin(sa.email)[1] == a.slot.kit.salt  # unchanged
    assert CloudSync(b, client, sb).sync_now().sent == 0  # b's session still good, still epoch 1
    for v in (a, b):
        v.close()
