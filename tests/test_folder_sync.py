"""Folder sync end to end: two devices (two homes) through one folder, real files, real watchdog events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sync import mssb
from sync.errors import ForeignSyncFileError, SyncError
from sync.folder import FolderSync
from sync.watch import FolderWatcher
from vault.records import new_record
from vault.vault import Vault

PW = "folder sync password"


def cli(home: Path, *args: str, password: str | None = PW, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    full |= {"STRONGROOM_INSECURE_TEST_KDF": "1", "STRONGROOM_HOME": str(home)} | env
    if password:
        full["STRONGROOM_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], env=full, capture_output=True, text=True,
                          timeout=60, cwd=home.parent)


def ok(home: Path, *args: str, **kw: str) -> str:
    r = cli(home, *args, **kw)
    assert r.returncode == 0, f"{args}: {r.stderr}"
    return r.stdout


@pytest.fixture
def two_devices(tmp_path: Path) -> tuple[Path, Path, Path, str]:
    a, b, folder = tmp_path / "a", tmp_path / "b", tmp_path / "Dropbox"
    folder.mkdir()
    account = ok(a, "signup", "--email", "ann@example.com", "--kit-dir", str(tmp_path)).strip()
    ok(a, "add", "login", "--title", "GitHub", "--field", "password=one")
    ok(a, "sync", "folder", str(folder))
    kit = tmp_path / f"Strongroom-Authentication-Kit-{account}.png"
    ok(b, "signin", "--email", "ann@example.com", "--kit", str(kit), "--folder", str(folder))
    return a, b, folder, account


def test_new_device_from_the_folder_and_both_ways(two_devices: tuple[Path, Path, Path, str]) -> None:
    a, b, folder, account = two_devices
    assert ok(b, "get", "GitHub", "--field", "password") == "one\n"
    ok(b, "add", "note", "--title", "From B")
    ok(b, "sync", "now")
    ok(a, "sync", "now")
    assert ok(a, "get", "From B", "--field", "title") == "From B\n"
    data = (folder / account / "data.mssb").read_bytes()
    for secret in (b"GitHub", b"From B", b"one", b"ann@example.com", PW.encode()):
        assert secret not in data


def test_concurrent_edits_are_both_kept_and_shown_as_conflict(two_devices: tuple[Path, Path, Path, str]) -> None:
    a, b, _, _ = two_devices
    ok(a, "edit", "GitHub", "--field", "password=from-a")
    ok(b, "edit", "GitHub", "--field", "password=from-b")
    ok(a, "sync", "now")
    ok(b, "sync", "now")
    ok(a, "sync", "now")
    docs = [json.loads(ok(h, "get", "GitHub", "--json")) for h in (a, b)]
    assert docs[0]["fields"] == docs[1]["fields"] and docs[0]["conflict"] and docs[1]["conflict"]
    values = {f["value"] for f in docs[0]["fields"] if f["name"] == "password"}
    values |= {f["value"] for h in docs[0]["history"] for f in h["fields"]} if docs[0]["history"] else set()
    status = json.loads(ok(a, "sync", "status", "--json"))
    assert [c["title"] for c in status["conflicts"]] == ["GitHub"] and status["method"] == "folder"
    # Resolving = a new edit that supersedes both; the loser's value stays in history.
    ok(a, "edit", "GitHub", "--field", "password=resolved")
    ok(a, "sync", "now")
    ok(b, "sync", "now")
    doc = json.loads(ok(b, "get", "GitHub", "--json"))
    assert not doc["conflict"]
    old = {f["value"] for h in doc["history"] for f in h["fields"]}
    assert {"from-a", "from-b"} <= old


def test_edit_concurrent_with_delete_survives(two_devices: tuple[Path, Path, Path, str]) -> None:
    a, b, _, _ = two_devices
    ok(a, "rm", "GitHub")
    ok(b, "edit", "GitHub", "--field", "password=still-here")
    ok(a, "sync", "now")
    ok(b, "sync", "now")
    ok(a, "sync", "now")
    assert ok(a, "get", "GitHub", "--field", "password") == "still-here\n"


def test_bad_folder_and_bad_kit(two_devices: tuple[Path, Path, Path, str], tmp_path: Path) -> None:
    a, _, folder, account = two_devices
    r = cli(tmp_path / "c", "signin", "--email", "ann@example.com", "--code", "AAAAA-BBBBB", "--folder", str(folder))
    assert r.returncode == 3 and "Strongroom code" in r.stderr
    r = cli(tmp_path / "d", "signin", "--email", "ann@example.com", "--kit",
            str(tmp_path / f"Strongroom-Authentication-Kit-{account}.png"), "--folder", str(tmp_path / "nowhere"))
    assert r.returncode == 4 and "does not exist" in r.stderr
    r = cli(tmp_path / "e", "signin", "--email", "ann@example.com", "--kit",
            str(tmp_path / f"Strongroom-Authentication-Kit-{account}.png"), "--folder", str(folder), password="wrong one!")
    assert r.returncode == 3 and not (tmp_path / "e" / "vault.db").exists()
    folder.rename(tmp_path / "unmounted")
    r = cli(a, "sync", "now")
    assert r.returncode == 4 and "missing" in r.stderr and "Traceback" not in r.stderr


def test_damaged_or_foreign_files_are_refused_and_nothing_is_lost(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    v = Vault.create(tmp_path / "a", "x@example.com", PW)
    v.add(new_record("note", "Keep"))
    s = FolderSync(v, folder)
    s.sync_now()
    good = s.path.read_bytes()
    for i in range(0, len(good), max(1, len(good) // 200)):
        bad = bytearray(good)
        bad[i] ^= 1
        s.path.write_bytes(bytes(bad))
        with pytest.raises(SyncError):
            s.sync_now()
    assert [x.title for x in v.summaries()] == ["Keep"]
    other = Vault.create(tmp_path / "o", "o@example.com", PW)
    FolderSync(other, folder).sync_now()
    (folder / other.slot.account_id / "data.mssb").replace(s.path)
    with pytest.raises(ForeignSyncFileError):
        s.sync_now()


def test_conflicted_copies_are_merged_then_retired(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    a = Vault.create(tmp_path / "a", "x@example.com", PW)
    FolderSync(a, folder).sync_now()
    # Device B, a conflicting writer, bootstrapped from the file.
    from sync.folder import bootstrap_from_folder

    b = bootstrap_from_folder(tmp_path / "b", folder, "x@example.com", PW, a.slot.kit)
    b.add(new_record("note", "Only in the copy"))
    sb = FolderSync(b, folder)
    sb.sync_now()
    copy = sb.path.with_name("data (Bob's conflicted copy 2026-11-22).mssb")
    sb.path.replace(copy)
    a.add(new_record("note", "Only in A"))
    report = FolderSync(a, folder).sync_now()
    assert report.merged_copies == [copy.name] and not copy.exists()
    assert sorted(s.title for s in a.summaries()) == ["Only in A", "Only in the copy"]


def test_watcher_sees_another_device_replace_the_file(tmp_path: Path) -> None:
    from sync.folder import bootstrap_from_folder

    folder = tmp_path / "f"
    folder.mkdir()
    a = Vault.create(tmp_path / "a", "x@example.com", PW)
    FolderSync(a, folder).sync_now()
    b = bootstrap_from_folder(tmp_path / "b", folder, "x@example.com", PW, a.slot.kit)
    seen: list[object] = []
    watcher = FolderWatcher(FolderSync(a, folder), seen.append)
    watcher.start()
    import threading

    t = threading.Thread(target=watcher.run, daemon=True)
    watcher.run_once()
    t.start()
    try:
        b.add(new_record("note", "Written by B"))
        FolderSync(b, folder).sync_now()  # temp file + rename: a moved event onto data.mssb
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "Written by B" not in {s.title for s in a.summaries()}:
            time.sleep(0.1)
    finally:
        watcher.stop()
        t.join(timeout=5)
    assert "Written by B" in {s.title for s in a.summaries()}


def test_icloud_placeholder_is_not_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    a = Vault.create(tmp_path / "a", "x@example.com", PW)
    (folder / a.slot.account_id).mkdir(parents=True)
    (folder / a.slot.account_id / ".data.mssb.icloud").write_bytes(b"placeholder")
    report = FolderSync(a, folder).sync_now()
    assert report.waiting_for_download and not (folder / a.slot.account_id / mssb.FILE_NAME).exists()
