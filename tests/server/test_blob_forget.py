"""Space on the account server comes back: a device asks the server to forget blobs no record
names (sync/server/blobstore.py `forget`), on the real server on 127.0.0.1 (SQLite and
PostgreSQL). Only blobs older than the server's grace period go, only the asking account's, and
uploads abandoned for a week go with them."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from sync.blobsync import ServerPlace
from sync.cloud import CloudClient, CloudSync
from sync.server.blobstore import STALE_UPLOAD_S
from sync.server.runner import ServerThread
from sync.server.service import ServerConfig
from vault import attachstore

from .conftest import make_config
from .helpers import add_login, sign_up


@pytest.fixture
def eager_server(db_target: tuple[str, str | None], tmp_path: Path) -> ServerThread:
    """A server whose grace period is over at once (an operator may set it: `blob_grace_s`)."""
    cfg: ServerConfig = make_config(db_target, tmp_path, blob_grace_s=0)
    with ServerThread(cfg) as srv:
        yield srv  # type: ignore[misc]


def _uploaded(url: str, home: Path, tmp_path: Path, email: str = "alice@example.com"):  # type: ignore[no-untyped-def]
    vault, session = sign_up(url, home, email=email)
    rid = add_login(vault, "Bank")
    src = tmp_path / f"{home.name}.bin"
    src.write_bytes(os.urandom(300_000))
    att = attachstore.add(vault, rid, src)
    CloudSync(vault, CloudClient(url), session).sync_now()
    place = ServerPlace(CloudClient(url), session)
    assert place.names() == {att.blob}
    return vault, session, place, att


def test_a_young_blob_is_kept_whatever_a_device_asks(server: ServerThread, tmp_path: Path) -> None:
    """Within the grace period (24 h by default) a blob stays: the records naming it may still be
    on their way from the device that uploaded it."""
    _, _, place, att = _uploaded(server.url, tmp_path / "a", tmp_path)
    assert place.forget([att.blob]) == []
    assert place.names() == {att.blob}


def test_an_old_unnamed_blob_is_forgotten_and_its_space_comes_back(
    eager_server: ServerThread, tmp_path: Path
) -> None:
    _, session, place, att = _uploaded(eager_server.url, tmp_path / "a", tmp_path)
    client = CloudClient(eager_server.url)
    assert client._as(session, "GET", "/v1/blobs")["used"] > 300_000
    assert place.forget([att.blob]) == [att.blob]
    assert place.names() == set()
    assert client._as(session, "GET", "/v1/blobs")["used"] == 0
    assert place.forget([att.blob]) == []  # not there any more: nothing to do, no error


def test_an_account_cannot_forget_another_accounts_blob(
    eager_server: ServerThread, tmp_path: Path
) -> None:
    _, _, place_a, att_a = _uploaded(eager_server.url, tmp_path / "a", tmp_path)
    _, _, place_b, _ = _uploaded(
        eager_server.url, tmp_path / "b", tmp_path, email="bob@example.com"
    )
    assert place_b.forget([att_a.blob]) == []
    assert place_a.names() == {att_a.blob}


def test_an_abandoned_upload_goes_after_a_week(server: ServerThread, tmp_path: Path) -> None:
    vault, session, place, att = _uploaded(server.url, tmp_path / "a", tmp_path)
    client = CloudClient(server.url)
    used = client._as(session, "GET", "/v1/blobs")["used"]
    client.raw(session, "PUT", f"/v1/blobs/{'ab' * 32}/parts/0", b"x" * 1000)  # never committed
    assert client._as(session, "GET", "/v1/blobs")["used"] == used + 1000
    place.forget([])
    assert client._as(session, "GET", "/v1/blobs")["used"] == used + 1000  # a fresh one stays
    with server.app.service.db.tx() as t:  # a week passes for that upload
        t.run(
            "UPDATE blob_parts SET created = created - ? WHERE name=?",
            (STALE_UPLOAD_S + 60, "ab" * 32),
        )
    place.forget([])
    assert client._as(session, "GET", "/v1/blobs")["used"] == used
    assert place.names() == {att.blob}  # the committed blob is untouched


@pytest.mark.parametrize(
    "body",
    [{"names": ["not-a-blob-name"]}, {"names": "ab"}, {"names": [1]}, {"names": ["ab" * 32] * 501}],
    ids=["bad-name", "not-a-list", "not-strings", "too-many"],
)
def test_a_malformed_request_is_a_clear_400(
    server: ServerThread, tmp_path: Path, body: dict[str, object]
) -> None:
    from sync.cloud import CloudError

    _, session, _, _ = _uploaded(server.url, tmp_path / "a", tmp_path)
    with pytest.raises(CloudError) as err:
        CloudClient(server.url)._as(session, "POST", "/v1/blobs/forget", body)
    assert err.value.status == 400 and str(err.value)


@pytest.fixture
def full_server(db_target: tuple[str, str | None], tmp_path: Path) -> ServerThread:
    """1 MiB of attachments per account, and a grace period over at once."""
    cfg: ServerConfig = make_config(db_target, tmp_path, blob_grace_s=0, blob_quota=1024 * 1024)
    with ServerThread(cfg) as srv:
        yield srv  # type: ignore[misc]


def test_a_full_account_gets_its_space_back_when_files_go(
    full_server: ServerThread, tmp_path: Path
) -> None:
    """The user story behind the quota message: the account is full, the user purges a record
    that held a large file, and the very next sync frees that space on the server and sends the
    new file that did not fit; another device gets it."""
    from .helpers import sign_in

    url = full_server.url
    a, sa = sign_up(url, tmp_path / "a")
    old_id, new_id = add_login(a, "Old scans"), add_login(a, "Passport")
    big = tmp_path / "old.bin"
    big.write_bytes(os.urandom(700_000))
    old = attachstore.add(a, old_id, big)
    assert not CloudSync(a, CloudClient(url), sa).sync_now().blobs.problems
    new = tmp_path / "passport.pdf"
    new.write_bytes(os.urandom(600_000))
    fresh = attachstore.add(a, new_id, new)
    report = CloudSync(a, CloudClient(url), sa).sync_now()
    assert any("attachment space on the server is full" in p for p in report.blobs.problems)
    mine = attachstore.blob_dir(a).path(old.blob)
    then = mine.stat().st_mtime - 2 * 3600  # this device's copy, past the safety age
    os.utime(mine, (then, then))
    a.trash(old_id)
    a.empty_trash()
    report = CloudSync(a, CloudClient(url), sa).sync_now()
    assert report.blobs.problems == [] and report.blobs.forgotten == 1
    place = ServerPlace(CloudClient(url), sa)
    assert place.names() == {fresh.blob} and old.blob not in place.names()
    b, _ = sign_in(url, tmp_path / "b", "alice@example.com", a.slot.kit)
    out = tmp_path / "got.pdf"
    (att,) = attachstore.listed(b, new_id)
    attachstore.save_to(b, att, out)
    assert out.read_bytes() == new.read_bytes()


def test_a_blob_still_named_on_another_device_comes_back(
    eager_server: ServerThread, tmp_path: Path
) -> None:
    """A forgets a blob its versions no longer name while B, offline, edits the record that still
    has the file: B's edit wins over the purge (an edit is never lost), B still holds the bytes
    and sends them again, and A can open the file."""
    from .helpers import sign_in

    url = eager_server.url
    a, sa = sign_up(url, tmp_path / "a")
    rid = add_login(a, "Bank")
    src = tmp_path / "codes.txt"
    src.write_bytes(os.urandom(50_000))
    att = attachstore.add(a, rid, src)
    CloudSync(a, CloudClient(url), sa).sync_now()
    b, sb = sign_in(url, tmp_path / "b", "alice@example.com", a.slot.kit)
    assert attachstore.present(b, att)
    b.edit(rid, lambda r: replace(r, notes="edited offline"))  # not synced yet, names the file
    a.trash(rid)
    a.empty_trash()
    report = CloudSync(a, CloudClient(url), sa).sync_now()
    assert report.blobs.forgotten == 1
    CloudSync(b, CloudClient(url), sb).sync_now()  # B's edit and the blob go up again
    CloudSync(a, CloudClient(url), sa).sync_now()
    (back,) = attachstore.listed(a, rid)
    out = tmp_path / "back.txt"
    attachstore.save_to(a, back, out)
    assert out.read_bytes() == src.read_bytes()
