"""Removing a device on a folder-synced account (issue 16 Build 2), driven as a user would: the
real CLI in subprocesses, three device homes and one real folder.

The removed device keeps the old Vault Key, the password and the old Kit, and reads nothing
written after; the other two follow without typing anything, one of them offline during the
removal; old Kits are refused with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync import folderlog, mssb
from sync.errors import SyncError
from tests.test_folder_sync import PW, cli, ok
from vault.vault import Vault

EMAIL = "ann@example.com"


@pytest.fixture
def three(tmp_path: Path) -> tuple[Path, Path, Path, Path, str]:
    a, b, c, folder = (tmp_path / n for n in ("a", "b", "c", "Dropbox"))
    folder.mkdir()
    account = ok(a, "signup", "--email", EMAIL, "--kit-dir", str(tmp_path)).strip()
    ok(a, "add", "login", "--title", "GitHub", "--field", "password=one")
    ok(a, "sync", "folder", str(folder))
    kit = tmp_path / f"Strongroom-Authentication-Kit-{account}.png"
    for home in (b, c):
        ok(home, "signin", "--email", EMAIL, "--kit", str(kit), "--folder", str(folder))
        ok(home, "sync", "now")
    ok(a, "sync", "now")
    return a, b, c, folder, account


def device_ids(home: Path) -> dict[str, dict[str, object]]:
    return {d["id"]: d for d in json.loads(ok(home, "devices", "--json"))}


def this_id(home: Path) -> str:
    return next(i for i, d in device_ids(home).items() if d["this_device"])


def test_devices_lists_every_device_with_this_one_marked(
    three: tuple[Path, Path, Path, Path, str],
) -> None:
    a, b, c, _, _ = three
    listed = device_ids(a)
    assert len(listed) == 3
    assert {this_id(a), this_id(b), this_id(c)} == set(listed)
    mine = listed[this_id(a)]
    assert mine["this_device"] is True and mine["method"] == "folder"
    assert set(mine) == {"id", "name", "method", "first_seen", "last_seen", "this_device"}
    assert sum(bool(d["this_device"]) for d in listed.values()) == 1
    text = ok(a, "devices")
    assert f"* {this_id(a)}" in text and this_id(b) in text
    # device entries are not records: not listed, not exported, not counted as pending
    assert "device" not in ok(a, "ls")
    assert json.loads(ok(a, "sync", "status", "--json"))["pending_changes"] == 0


def test_remove_a_device_the_others_follow_and_the_removed_one_reads_nothing_new(
    three: tuple[Path, Path, Path, Path, str], tmp_path: Path
) -> None:
    a, b, c, folder, account = three
    x = this_id(b)
    old_kit = tmp_path / f"Strongroom-Authentication-Kit-{account}.png"
    old_keys = _keys(b)
    a_old_keys = _keys(a)

    # c is offline from here on; a removes b
    new_kits = tmp_path / "new-kit"
    r = cli(a, "devices", "rm", x, "--kit-dir", str(new_kits))
    assert r.returncode == 0, r.stderr
    assert f"Device {x} was removed" in r.stderr
    new_kit = new_kits / f"Strongroom-Authentication-Kit-{account}.png"
    assert new_kit.exists()
    assert x not in device_ids(a)
    ok(a, "add", "login", "--title", "After removal", "--field", "password=two")
    ok(a, "sync", "now")
    assert ok(a, "get", "GitHub", "--field", "password") == "one\n"
    # a process of a still holding the old keys (the app, the agent) moves with it
    va = Vault.open(a)
    try:
        va.unlock_with_keys(a_old_keys)
        assert va.keys.epoch == a_old_keys.epoch + 1
        assert {s.title for s in va.summaries()} == {"GitHub", "After removal"}
    finally:
        va.close()

    # the removed device says so, and has nothing new (no exit 70 anywhere)
    r = cli(b, "sync", "now")
    assert r.returncode == 3, r.stderr
    assert "this device was removed from the account by" in r.stderr
    assert "After removal" not in ok(b, "ls")
    # with the old VK nothing in the folder opens any more
    adir = folder / account
    with pytest.raises(SyncError):
        mssb.open_snapshot((adir / mssb.FILE_NAME).read_bytes(), old_keys)
    for f in (adir / "changes").glob("*.mslog"):
        with pytest.raises(SyncError):
            folderlog.decode(f.read_bytes(), old_keys, f.name)
    # the old Kit with the password: refused, with the reason
    r = cli(
        tmp_path / "x2", "signin", "--email", EMAIL, "--kit", str(old_kit), "--folder", str(folder)
    )
    assert r.returncode == 3, r.stderr
    assert f"replaced when device {x}" in r.stderr and "was removed" in r.stderr

    # a damaged key change is refused and changes nothing on c
    change = next((adir / "keys").glob("*.srkc"))
    good = change.read_bytes()
    change.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    r = cli(c, "sync", "now")
    assert r.returncode == 4 and "does not open" in r.stderr, r.stderr
    assert ok(c, "get", "GitHub", "--field", "password") == "one\n"
    change.write_bytes(good)

    # c, offline during the removal, follows with nothing typed but its usual unlock
    ok(c, "sync", "now")
    assert ok(c, "get", "After removal", "--field", "password") == "two\n"
    assert ok(c, "get", "GitHub", "--field", "password") == "one\n"
    assert x not in device_ids(c)
    ok(c, "add", "note", "--title", "From C")
    ok(c, "sync", "now")
    ok(a, "sync", "now")
    assert ok(a, "get", "From C", "--field", "title") == "From C\n"
    r = cli(b, "sync", "now")
    assert r.returncode == 3 and "removed" in r.stderr
    assert "From C" not in ok(b, "ls")

    # the new Kit signs in a new device with the same password
    d = tmp_path / "d"
    ok(d, "signin", "--email", EMAIL, "--kit", str(new_kit), "--folder", str(folder))
    assert ok(d, "get", "From C", "--field", "title") == "From C\n"
    # and on a remaining device the old Kit is named as replaced
    r = cli(c, "kit", "--check", str(old_kit))
    assert r.returncode == 3 and f"replaced when device {x}" in r.stderr


def test_removing_this_device_or_an_unknown_one_is_refused(
    three: tuple[Path, Path, Path, Path, str], tmp_path: Path
) -> None:
    a, _, _, _, _ = three
    r = cli(a, "devices", "rm", this_id(a), "--kit-dir", str(tmp_path / "k"))
    assert r.returncode == 2 and "remove it from another device" in r.stderr
    r = cli(a, "devices", "rm", "ffffffff", "--kit-dir", str(tmp_path / "k"))
    assert r.returncode == 1 and "no device 'ffffffff'" in r.stderr
    r = cli(a, "devices", "rm", this_id(a), password="wrong password")
    assert r.returncode == 3


def _keys(home: Path):  # type: ignore[no-untyped-def]
    v = Vault.open(home)
    try:
        v.unlock(PW)
        return v.keys
    finally:
        v.close()


def test_another_process_of_the_removing_device_follows_it(tmp_path: Path) -> None:
    """A `sync serve` (or the app) of device R holds the old keys while `devices rm` runs on R:
    its next sync moves to the new keys from R's own store, and its records still open."""
    from sync.folder import FolderSync, bootstrap_from_folder
    from sync.method import configure, remove_device, sync_now
    from vault.records import new_record

    folder = tmp_path / "folder"
    folder.mkdir()
    r = Vault.create(tmp_path / "r", EMAIL, PW)
    r.add(new_record("login", "GitHub", {"password": "one"}))
    configure(r, "folder", folder=str(folder))
    sync_now(r)
    x = bootstrap_from_folder(tmp_path / "x", folder, EMAIL, PW, r.slot.kit)
    sync_now(x)
    sync_now(r)
    serve = Vault.open(tmp_path / "r")
    serve.unlock(PW)
    watcher = FolderSync(serve, folder)
    watcher.sync_now()
    remove_device(r, x.device, PW)
    r.add(new_record("note", "After"))
    sync_now(r)
    watcher.sync_now()
    assert serve.keys.epoch == r.keys.epoch and serve.keys.vk == r.keys.vk
    assert {s.title for s in serve.summaries()} == {"GitHub", "After"}
    with pytest.raises(Exception, match="removed from the account"):
        sync_now(x)
    for v in (r, x, serve):
        v.close()


def test_files_and_history_survive_a_removal_on_every_remaining_and_new_device(
    three: tuple[Path, Path, Path, Path, str], tmp_path: Path
) -> None:
    """A file's key is wrapped under the Vault Key: a removal re-wraps it with the record, in
    the record's history too, so the files stay readable where the old VK is gone."""
    a, b, c, folder, account = three
    data = bytes(range(256)) * 4000  # ~1 MB
    src = tmp_path / "scan.pdf"
    src.write_bytes(data)
    ok(a, "attach", "add", "GitHub", str(src))
    ok(a, "edit", "GitHub", "--field", "password=three")  # a version with the file in history
    ok(a, "sync", "now")
    ok(c, "sync", "now")
    new_kits = tmp_path / "new-kit"
    r = cli(a, "devices", "rm", this_id(b), "--kit-dir", str(new_kits))
    assert r.returncode == 0, r.stderr
    ok(a, "sync", "now")
    ok(c, "sync", "now")
    d = tmp_path / "d"
    new_kit = new_kits / f"Strongroom-Authentication-Kit-{account}.png"
    ok(d, "signin", "--email", EMAIL, "--kit", str(new_kit), "--folder", str(folder))
    for n, home in enumerate((a, c, d)):
        out = tmp_path / f"out{n}.pdf"
        ok(home, "attach", "get", "GitHub", "scan.pdf", "-o", str(out))
        assert out.read_bytes() == data
        versions = json.loads(ok(home, "history", "GitHub", "--json"))
        assert len(versions) >= 3
    # restoring the version from before the last edit brings its file back, still readable
    ok(c, "history", "restore", "GitHub", "2")
    assert ok(c, "get", "GitHub", "--field", "password") == "one\n"
    out = tmp_path / "restored.pdf"
    ok(c, "attach", "get", "GitHub", "scan.pdf", "-o", str(out))
    assert out.read_bytes() == data
