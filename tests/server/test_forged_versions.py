"""A token holder (or the server's operator) forges versions: nothing is ever lost (issue 16).

Real parts only: the real server on 127.0.0.1, real sessions from the real sign-in, forgeries
pushed through the HTTP API with a real token (or, for the operator, written into the server's
own database), real device stores, and the real CLI for what a user runs.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import httpx
from clikit import cli_env, run_cli

from sync.cloud import (
    DEVICE_HEADER,
    REPUSH_EVERY,
    REPUSHED_META,
    CloudClient,
    CloudSession,
    CloudSync,
)
from sync.method import configure
from sync.method import status as sync_status
from sync.server.runner import ServerThread
from sync.server.storage import Storage
from vault.envelope import MAX_HLC, Envelope, vv_key
from vault.intake import NOT_OURS
from vault.vault import Vault

from .conftest import make_config
from .helpers import PASSWORD, add_login, sign_in, sign_up


def forged(current: Envelope, deleted: bool = False, hlc: int | None = None) -> Envelope:
    """A "newer" version of a record as a token holder makes it: a vector that dominates the
    current one, random bytes where the ciphertext goes (the record key is not theirs)."""
    vv = {**current.vv, "e5e5e5e5": 99}
    return Envelope(
        current.record_id,
        vv_key(vv),
        current.hlc + 1 if hlc is None else hlc,
        "e5e5e5e5",
        deleted,
        os.urandom(len(current.ciphertext)),
    )


def push_raw(url: str, session: CloudSession, blobs: list[bytes]) -> httpx.Response:
    """POST /v1/sync/push with nothing but the bearer token and the device id it is bound to
    (what a token holder can do)."""
    return httpx.post(
        f"{url}/v1/sync/push",
        json={
            "generation": session.generation,
            "epoch": session.epoch,
            "envelopes": [base64.b64encode(b).decode() for b in blobs],
        },
        headers={"Authorization": f"Bearer {session.token}", DEVICE_HEADER: session.device_id},
    )


def server_bodies(storage: Storage) -> set[bytes]:
    return {bytes(r[4]) for r in storage.dump()["envelopes"]}


def passwords(vault: Vault) -> dict[str, str]:
    return {s.title: vault.record(s.id).value("password") for s in vault.summaries()}


def refused_from(vault: Vault) -> dict[tuple[str, str], int]:
    return {(src, why): n for src, why, n, _ in vault.store.refused_summary()}


def linked(vault: Vault, url: str) -> Vault:
    configure(vault, "cloud", server=url)
    return vault


def test_a_forged_edit_and_tombstone_change_nothing_and_the_server_gets_the_good_ones_back(
    db_target: tuple[str, str | None], tmp_path: Path
) -> None:
    with ServerThread(make_config(db_target, tmp_path)) as server:
        client = CloudClient(server.url)
        a, sa = sign_up(server.url, tmp_path / "a")
        bank = add_login(a, "Bank", "bank-pw")
        mail = add_login(a, "Mail", "mail-pw")
        CloudSync(a, client, sa).sync_now()
        b, _ = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
        linked(a, server.url), linked(b, server.url)
        good = {e.to_bytes() for e in a.store.all_versions()}
        assert passwords(b) == {"Bank": "bank-pw", "Mail": "mail-pw"}

        (bank_now,) = a.store.versions(bank)
        (mail_now,) = a.store.versions(mail)
        edit, tomb = forged(bank_now), forged(mail_now, deleted=True)
        r = push_raw(server.url, sa, [edit.to_bytes(), tomb.to_bytes()])
        assert r.status_code == 200, r.text
        storage = Storage(*db_target)
        assert good <= server_bodies(storage), "superseded, but kept for the retention period"
        # The server lost them (a server before this change deleted them at once; or the
        # retention period passed): the devices bring them back.
        with storage.tx() as t:
            t.run("DELETE FROM envelopes WHERE superseded IS NOT NULL")
        assert not good & server_bodies(storage)

        for device in (a, b):
            report = CloudSync(device, client).sync_now()
            assert report.refused == 2 and report.repushed == 2
            assert passwords(device) == {"Bank": "bank-pw", "Mail": "mail-pw"}
            assert refused_from(device) == {("cloud", NOT_OURS): 2}
            st = sync_status(device)
            assert st["refused_versions"] == 2
            assert st["refused"][0]["source"] == "cloud"
        assert good <= server_bodies(storage), "the good versions are on the server again"

        # a device signing in afterwards gets the records too (and refuses the forgeries)
        c, _ = sign_in(server.url, tmp_path / "c", "alice@example.com", a.slot.kit)
        assert passwords(c) == {"Bank": "bank-pw", "Mail": "mail-pw"}
        assert refused_from(c) == {("cloud", NOT_OURS): 2}

        # the CLI says it, in words and in JSON
        for device in (a, b, c):
            device.close()
        env = cli_env(tmp_path / "a", PASSWORD)
        done = run_cli(env, "sync", "now")
        assert done.returncode == 0, done.stderr
        text = run_cli(env, "sync", "status")
        assert "Versions refused (not merged, nothing lost): 2" in text.stdout
        assert f"2 from cloud: {NOT_OURS}" in text.stdout
        st = json.loads(run_cli(env, "sync", "status", "--json").stdout)
        assert st["refused_versions"] == 2 and st["refused"][0]["reason"] == NOT_OURS
        storage.close()


def test_the_server_keeps_superseded_versions_for_its_retention_period(
    server: ServerThread, db_target: tuple[str, str | None], tmp_path: Path
) -> None:
    """The default: a superseded version is kept and served, so a new device gets the good one
    even if no old device ever syncs again."""
    client = CloudClient(server.url)
    a, sa = sign_up(server.url, tmp_path / "a")
    bank = add_login(a, "Bank", "bank-pw")
    CloudSync(a, client, sa).sync_now()
    (now,) = a.store.versions(bank)
    assert push_raw(server.url, sa, [forged(now, deleted=True).to_bytes()]).status_code == 200
    storage = Storage(*db_target)
    rows = storage.dump()["envelopes"]
    kept = [r for r in rows if bytes(r[4]) == now.to_bytes()]
    assert kept and kept[0][5] is not None, "kept, marked superseded"
    b, _ = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
    assert passwords(b) == {"Bank": "bank-pw"}
    # a device pushing the version again keeps it from now: no new row, no new revision
    revision = client.status(sa)["revision"]
    client.push(sa, [now])
    assert client.status(sa)["revision"] == revision
    assert len([r for r in storage.dump()["envelopes"] if bytes(r[4]) == now.to_bytes()]) == 1
    storage.close()
    a.close()
    b.close()


def test_hlc_2_63_is_refused_with_a_clear_message_and_sync_goes_on(
    db_target: tuple[str, str | None], tmp_path: Path
) -> None:
    with ServerThread(make_config(db_target, tmp_path)) as server:
        client = CloudClient(server.url)
        a, sa = sign_up(server.url, tmp_path / "a")
        bank = add_login(a, "Bank", "bank-pw")
        CloudSync(a, client, sa).sync_now()
        (now,) = a.store.versions(bank)
        huge = forged(now, hlc=MAX_HLC + 1)

        # through the API: refused at once, in words
        r = push_raw(server.url, sa, [huge.to_bytes()])
        assert r.status_code == 400 and "hlc 9223372036854775808" in r.json()["message"]

        # written by the operator (or an earlier server) straight into the database
        storage = Storage(*db_target)
        with storage.tx() as t:
            rev = int(
                t.one("SELECT revision FROM accounts WHERE account_id=?", (sa.account_id,))[0]
            )
            t.run(
                "INSERT INTO envelopes (account_id, record_id, vv, rev, body) VALUES (?, ?, ?, ?, ?)",
                (sa.account_id, bank, huge.vv_text, rev + 1, huge.to_bytes()),
            )
            t.run("UPDATE accounts SET revision=? WHERE account_id=?", (rev + 1, sa.account_id))
        storage.close()
        # another device's change arrives in the same pull: sync goes on with the rest
        b, sb = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
        assert passwords(b) == {"Bank": "bank-pw"}
        (why,) = [w for (src, w) in refused_from(b) if src == "cloud"]
        assert why.startswith("out of bounds: ") and "hlc 9223372036854775808" in why
        add_login(b, "Mail", "mail-pw")
        CloudSync(b, client, sb).sync_now()
        a.close()
        b.close()

        # the CLI: `sync now` exits 0 and says what it refused; a new device signs in whole
        env = cli_env(tmp_path / "a", PASSWORD)
        configure_home(tmp_path / "a", server.url)
        done = run_cli(env, "sync", "now")
        assert done.returncode == 0, done.stderr
        assert "refused 1 version" in done.stderr
        status = run_cli(env, "sync", "status")
        assert "hlc 9223372036854775808" in status.stdout
        c, _ = sign_in(server.url, tmp_path / "c", "alice@example.com", a.slot.kit)
        assert passwords(c) == {"Bank": "bank-pw", "Mail": "mail-pw"}
        c.close()


def configure_home(home: Path, url: str) -> None:
    v = Vault.open(home)
    try:
        configure(v, "cloud", server=url)
    finally:
        v.close()


def test_good_versions_are_pushed_again_once_per_refusal_until_the_refusals_are_cleared(
    server: ServerThread, db_target: tuple[str, str | None], tmp_path: Path
) -> None:
    """Not on every sync: once for each refusal (and again when a record is forged anew), then
    once a day while it is recorded; `sync status --clear-refused` forgets them and so ends it."""
    client = CloudClient(server.url)
    a, sa = sign_up(server.url, tmp_path / "a")
    bank = add_login(a, "Bank", "bank-pw")
    mail = add_login(a, "Mail", "mail-pw")
    CloudSync(a, client, sa).sync_now()
    (bank_now,) = a.store.versions(bank)
    (mail_now,) = a.store.versions(mail)
    assert push_raw(server.url, sa, [forged(bank_now).to_bytes()]).status_code == 200
    storage = Storage(*db_target)

    first = CloudSync(a, client, sa).sync_now()
    assert first.refused == 1 and first.repushed == 1
    assert CloudSync(a, client, sa).sync_now().repushed == 0  # nothing new: nothing sent again
    # the server lost the good version: it has it again once a day has passed since the push
    with storage.tx() as t:
        t.run("DELETE FROM envelopes WHERE superseded IS NOT NULL")
    pushed_at = json.loads(a.store.get_meta(REPUSHED_META) or b"{}")
    assert set(pushed_at) == {bank}
    a.store.set_meta(REPUSHED_META, json.dumps({bank: pushed_at[bank] - REPUSH_EVERY}).encode())
    assert CloudSync(a, client, sa).sync_now().repushed == 1
    assert bank_now.to_bytes() in server_bodies(storage)
    # another record forged: its own versions go at once, the first record's not again
    assert push_raw(server.url, sa, [forged(mail_now, deleted=True).to_bytes()]).status_code == 200
    rep = CloudSync(a, client, sa).sync_now()
    assert rep.refused == 1 and rep.repushed == 1
    assert passwords(a) == {"Bank": "bank-pw", "Mail": "mail-pw"}
    a.close()

    env = cli_env(tmp_path / "a", PASSWORD)
    configure_home(tmp_path / "a", server.url)
    text = run_cli(env, "sync", "status", "--clear-refused")
    assert text.returncode == 0, text.stderr
    assert "Forgot 2 refused versions" in text.stdout
    assert "Versions refused (not merged, nothing lost): 0" in text.stdout
    st = json.loads(run_cli(env, "sync", "status", "--json").stdout)
    assert st["refused_versions"] == 0 and st["refused"] == []
    again = json.loads(run_cli(env, "sync", "status", "--clear-refused", "--json").stdout)
    assert again["cleared_refused"] == 0
    # cleared: no more pushes of those records, even a day later; the records stay as they are
    a = Vault.open(tmp_path / "a")
    a.unlock(PASSWORD)
    a.store.set_meta(REPUSHED_META, json.dumps({bank: 0, mail: 0}).encode())
    assert CloudSync(a, client).sync_now().repushed == 0
    assert passwords(a) == {"Bank": "bank-pw", "Mail": "mail-pw"}
    a.close()
    storage.close()
