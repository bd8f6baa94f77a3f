"""Attachments through the real account server on 127.0.0.1 (SQLite and PostgreSQL): byte-exact
round trip, nothing readable in what the client sends or the server stores, a changed blob
refused by the receiving device, the per-account quota, and a resumable upload that is invisible
until committed."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from sync.blobsync import ServerPlace
from sync.cloud import CloudClient, CloudSync
from sync.server.runner import ServerThread
from sync.server.service import ServerConfig
from vault import attachstore
from vault.errors import TamperError
from vault.vault import Vault

from .conftest import make_config
from .helpers import add_login, sign_in, sign_up

NAME = "passport-scan-TOPSECRETNAME.pdf"
MARK = b"CONTENT-MARKER-"


def _file(tmp_path: Path, size: int) -> tuple[Path, bytes]:
    data = (MARK * (size // len(MARK) + 1))[:size]
    data = data[: size // 2] + os.urandom(size - size // 2)
    path = tmp_path / NAME
    path.write_bytes(data)
    return path, data


def _read(vault: Vault, rid: str) -> bytes:
    out = io.BytesIO()
    attachstore.read(vault, attachstore.listed(vault, rid)[0], out)
    return out.getvalue()


def test_round_trip_and_nothing_readable_on_the_server_or_the_wire(
    server: ServerThread, tmp_path: Path
) -> None:
    sent: list[tuple[str, bytes]] = []
    client = CloudClient(server.url, capture=lambda url, body: sent.append((url, body)))
    a, sa = sign_up(server.url, tmp_path / "a", client=client)
    rid = add_login(a, "Bank")
    src, data = _file(tmp_path, 9_000_000)  # three 4 MiB parts
    attachstore.add(a, rid, src)
    report = CloudSync(a, client, sa).sync_now()
    assert report.blobs.sent == 1
    b, _ = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
    assert _read(b, rid) == data
    dump = server.app.service.db.dump()
    stored = b"".join(
        v if isinstance(v, bytes) else str(v).encode()
        for rows in dump.values()
        for row in rows
        for v in row
    )
    wire = b"".join(body for _, body in sent)
    for clear in (b"TOPSECRETNAME", b"passport", MARK, str(len(data)).encode()):
        assert clear not in stored
        assert clear not in wire
    assert len(dump["blobs"]) == 1 and dump["blobs"][0][2] > len(data)  # padded size only


def test_a_changed_blob_on_the_server_is_refused_by_the_device(
    server: ServerThread, tmp_path: Path
) -> None:
    a, sa = sign_up(server.url, tmp_path / "a")
    rid = add_login(a, "Bank")
    src, _ = _file(tmp_path, 200_000)
    att = attachstore.add(a, rid, src)
    CloudSync(a, CloudClient(server.url), sa).sync_now()
    with server.app.service.db.tx() as t:  # what an attacker holding the database could do
        row = t.one("SELECT data FROM blob_parts WHERE name=?", (att.blob,))
        bad = bytearray(bytes(row[0]))
        bad[100_000] ^= 0x01
        t.run("UPDATE blob_parts SET data=? WHERE name=?", (bytes(bad), att.blob))
    b, sb = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
    assert not attachstore.present(b, att)
    again = CloudSync(b, CloudClient(server.url), sb).sync_now()
    assert any("failed authentication" in p for p in again.blobs.problems)
    assert attachstore.blob_dir(b).names() == set()
    place = ServerPlace(CloudClient(server.url), sb)
    with pytest.raises(TamperError), place.reader(att.blob) as src:  # asked for directly
        attachstore.blob_dir(b).copy_in(src, att.blob, attachstore.checker(b, att))
    assert attachstore.blob_dir(b).names() == set()


@pytest.fixture
def small_server(db_target: tuple[str, str | None], tmp_path: Path) -> ServerThread:
    cfg: ServerConfig = make_config(db_target, tmp_path, blob_quota=1024 * 1024)
    with ServerThread(cfg) as srv:
        yield srv  # type: ignore[misc]


def test_the_account_quota_says_so_and_records_still_sync(
    small_server: ServerThread, tmp_path: Path
) -> None:
    a, sa = sign_up(small_server.url, tmp_path / "a")
    rid = add_login(a, "Bank")
    src, _ = _file(tmp_path, 2_000_000)
    attachstore.add(a, rid, src)
    report = CloudSync(a, CloudClient(small_server.url), sa).sync_now()
    assert report.sent == 1
    (problem,) = report.blobs.problems
    assert "attachment space on the server is full" in problem and "1.0 MiB" in problem
    assert problem.startswith("files not sent: ")
    b, _ = sign_in(small_server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
    (att,) = attachstore.listed(b, rid)  # the metadata always comes; the bytes could not
    assert att.name == NAME and not attachstore.present(b, att)


def test_an_interrupted_upload_is_invisible_then_resumed(
    server: ServerThread, tmp_path: Path
) -> None:
    a, sa = sign_up(server.url, tmp_path / "a")
    rid = add_login(a, "Bank")
    src, data = _file(tmp_path, 9_000_000)
    att = attachstore.add(a, rid, src)
    client = CloudClient(server.url)
    place = ServerPlace(client, sa)
    blob = attachstore.blob_dir(a).path(att.blob).read_bytes()
    client.raw(sa, "PUT", f"/v1/blobs/{att.blob}/parts/0", blob[: ServerPlace.PART])
    assert place.names() == set()  # a part is not a blob: nothing visible yet
    assert place._status(att.blob)["parts"] == [0]
    puts: list[str] = []
    counting = CloudClient(
        server.url, capture=lambda url, body: puts.append(url) if "/parts/" in url else None
    )
    CloudSync(a, counting, sa).sync_now()
    assert [u.rsplit("/", 1)[1] for u in puts] == ["1", "2"]  # part 0 was not sent again
    assert place.names() == {att.blob}
    b, _ = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
    assert _read(b, rid) == data


def test_a_commit_of_bytes_that_do_not_carry_the_name_is_refused(
    server: ServerThread, tmp_path: Path
) -> None:
    _, sa = sign_up(server.url, tmp_path / "a")
    client = CloudClient(server.url)
    name = "ab" * 32
    client.raw(sa, "PUT", f"/v1/blobs/{name}/parts/0", b"SRAT\x01\x08" + bytes(300))
    from sync.cloud import CloudError

    with pytest.raises(CloudError) as err:
        client._as(sa, "POST", f"/v1/blobs/{name}/commit", {"size": 306, "parts": 1})
    assert err.value.code == "blob_mismatch"
    assert ServerPlace(client, sa).names() == set()
    assert ServerPlace(client, sa)._status(name)["parts"] == []


def test_sigkill_mid_upload_leaves_nothing_visible_and_the_next_sync_completes(
    server: ServerThread, tmp_path: Path
) -> None:
    import signal
    import subprocess
    import sys
    import time

    from clikit import cli_env

    from .helpers import PASSWORD

    a, sa = sign_up(server.url, tmp_path / "a")
    a.update_settings(sync={"method": "cloud", "server": server.url})
    rid = add_login(a, "Bank")
    src, data = _file(tmp_path, 16_000_000)  # four parts
    att = attachstore.add(a, rid, src)
    a.close()
    db = server.app.service.db

    def parts() -> int:
        with db.tx(write=False) as t:
            return int(t.one("SELECT COUNT(*) FROM blob_parts")[0])

    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "sync", "now"],
        env=cli_env(tmp_path / "a", PASSWORD),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and parts() == 0:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    client = CloudClient(server.url)
    held = parts()
    assert 1 <= held < 4, "the kill must land mid-upload"
    assert ServerPlace(client, sa).names() == set()  # parts, but no visible blob
    done = subprocess.run(
        [sys.executable, "-m", "cli", "sync", "now"],
        env=cli_env(tmp_path / "a", PASSWORD),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert ServerPlace(client, sa).names() == {att.blob}
    a = Vault.open(tmp_path / "a")
    a.unlock(PASSWORD)
    b, _ = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
    assert _read(b, rid) == data
