"""Folder sync end to end: two devices (two homes) through one folder, real files, real watchdog events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from clikit import REPO, cli_env, run_cli

from sync import mssb
from sync.errors import ForeignSyncFileError
from sync.folder import FolderSync, read_folder
from sync.watch import FolderWatcher
from vault.merge import by_record, survivors
from vault.records import new_record
from vault.vault import Vault

PW = "folder sync password"


def cli(
    home: Path, *args: str, password: str | None = PW, **env: str
) -> subprocess.CompletedProcess[str]:
    return run_cli(cli_env(home, password or None, **env), *args, cwd=home.parent)


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


def test_new_device_from_the_folder_and_both_ways(
    two_devices: tuple[Path, Path, Path, str],
) -> None:
    a, b, folder, account = two_devices
    assert ok(b, "get", "GitHub", "--field", "password") == "one\n"
    ok(b, "add", "note", "--title", "From B")
    ok(b, "sync", "now")
    ok(a, "sync", "now")
    assert ok(a, "get", "From B", "--field", "title") == "From B\n"
    data = (folder / account / "data.mssb").read_bytes()
    for secret in (b"GitHub", b"From B", b"one", b"ann@example.com", PW.encode()):
        assert secret not in data


def test_concurrent_edits_are_both_kept_and_shown_as_conflict(
    two_devices: tuple[Path, Path, Path, str],
) -> None:
    a, b, _, _ = two_devices
    ok(a, "edit", "GitHub", "--field", "password=from-a")
    ok(b, "edit", "GitHub", "--field", "password=from-b")
    ok(a, "sync", "now")
    ok(b, "sync", "now")
    ok(a, "sync", "now")
    docs = [json.loads(ok(h, "get", "GitHub", "--json")) for h in (a, b)]
    assert docs[0]["fields"] == docs[1]["fields"] and docs[0]["conflict"] and docs[1]["conflict"]
    values = {f["value"] for f in docs[0]["fields"] if f["name"] == "password"}
    values |= (
        {f["value"] for h in docs[0]["history"] for f in h["fields"]}
        if docs[0]["history"]
        else set()
    )
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
    r = cli(
        tmp_path / "c",
        "signin",
        "--email",
        "ann@example.com",
        "--code",
        "AAAAA-BBBBB",
        "--folder",
        str(folder),
    )
    assert r.returncode == 3 and "Strongroom code" in r.stderr
    r = cli(
        tmp_path / "d",
        "signin",
        "--email",
        "ann@example.com",
        "--kit",
        str(tmp_path / f"Strongroom-Authentication-Kit-{account}.png"),
        "--folder",
        str(tmp_path / "nowhere"),
    )
    assert r.returncode == 4 and "does not exist" in r.stderr
    r = cli(
        tmp_path / "e",
        "signin",
        "--email",
        "ann@example.com",
        "--kit",
        str(tmp_path / f"Strongroom-Authentication-Kit-{account}.png"),
        "--folder",
        str(folder),
        password="wrong one!",
    )
    assert r.returncode == 3 and not (tmp_path / "e" / "vault.db").exists()
    folder.rename(tmp_path / "unmounted")
    r = cli(a, "sync", "now")
    assert r.returncode == 4 and "missing" in r.stderr and "Traceback" not in r.stderr


def test_damaged_files_are_set_aside_reported_and_replaced_foreign_ones_refused(
    tmp_path: Path,
) -> None:
    """Any flipped byte of data.mssb: the file is skipped and set aside (never deleted), the sync
    goes on and says so, and the device writes a good snapshot again (the repair)."""
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
        report = s.sync_now()
        assert report.compacted and len(report.problems) == 1, i
        assert "Strongroom sync file (" not in report.problems[0]  # said once, not doubled
        assert [e.record_id for e in mssb.read_for(s.path.read_bytes(), v.keys)[1]]
        assert bytes(bad) in {p.read_bytes() for p in s.account_dir.glob("data.damaged-*.mssb")}
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
        while time.monotonic() < deadline and "Written by B" not in {
            s.title for s in a.summaries()
        }:
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
    assert (
        report.waiting_for_download and not (folder / a.slot.account_id / mssb.FILE_NAME).exists()
    )


# -- real watchdog events, two devices with watchers on, writers in other processes ------------


def _wait_until(check: object, timeout: float = 10.0) -> float:
    """Seconds until check() is true (fails the test after `timeout`)."""
    start = time.monotonic()
    while not check():  # type: ignore[operator]
        assert time.monotonic() - start < timeout, "timed out waiting"
        time.sleep(0.02)
    return time.monotonic() - start


def _pair(tmp_path: Path) -> tuple[Path, Vault, Vault]:
    from sync.folder import bootstrap_from_folder

    folder = tmp_path / "Dropbox"
    folder.mkdir()
    a = Vault.create(tmp_path / "a", "w@example.com", PW)
    a.add(new_record("login", "Shared", {"password": "v0"}))
    FolderSync(a, folder).sync_now()
    b = bootstrap_from_folder(tmp_path / "b", folder, "w@example.com", PW, a.slot.kit)
    return folder, a, b


def _titles(v: Vault) -> set[str]:
    return {s.title for s in v.summaries()}


def test_another_process_replacing_the_file_is_merged_within_the_debounce(tmp_path: Path) -> None:
    folder, a, b = _pair(tmp_path)
    b.add(new_record("note", "From another process"))
    staged = tmp_path / "staged.mssb"
    staged.write_bytes(
        mssb.encode(mssb.header_for(b.slot, b.device, 50), b.keys, b.store.all_versions())
    )
    changes: list[object] = []
    errors: list[Exception] = []
    w = FolderWatcher(FolderSync(a, folder), on_change=changes.append, on_error=errors.append)
    w.start_background()
    try:
        _wait_until(lambda: w._last_seq >= 0)  # first sync done
        assert not w.polling
        target = mssb.file_path(folder, a.slot.account_id)
        script = (
            "import os, shutil, sys; tmp = sys.argv[2] + '.part'; shutil.copyfile(sys.argv[1], tmp); "
            "os.replace(tmp, sys.argv[2])"
        )
        subprocess.run(
            [sys.executable, "-c", script, str(staged), str(target)], check=True, timeout=30
        )
        took = _wait_until(lambda: "From another process" in _titles(a))
    finally:
        w.stop()
    assert not errors and changes and took < 2.0, took
    # The watcher wrote back nothing new (the file already had everything) and the file is good.
    _, envs = mssb.read_for(target.read_bytes(), a.keys)
    assert {e.vv_text for e in envs} >= {e.vv_text for e in a.store.all_versions()}


def test_watchers_on_two_devices_keep_concurrent_edits_and_edit_beats_delete(
    tmp_path: Path,
) -> None:
    folder, a, b = _pair(tmp_path)
    a.add(new_record("note", "Doomed"))
    FolderSync(a, folder).sync_now()
    FolderSync(b, folder).sync_now()
    rid = a.find("Shared")
    doomed = a.find("Doomed")
    # Offline on both: the same record edited twice, and delete (A) vs edit (B).
    for v, value in ((a, "from-a"), (b, "from-b")):
        v.update(
            replace(v.record(rid), fields=new_record("login", "x", {"password": value}).fields)
        )
    a.delete(doomed)
    b.update(replace(b.record(doomed), notes="edited on B"))
    errors: list[Exception] = []
    watchers = [FolderWatcher(FolderSync(v, folder), on_error=errors.append) for v in (a, b)]
    for w in watchers:
        w.start_background()
    try:

        def converged() -> bool:
            da, db = a.detail(rid), b.detail(rid)
            return (
                da.conflict
                and db.conflict
                and doomed in {s.id for s in a.summaries()}
                and {s.id for s in a.summaries()} == {s.id for s in b.summaries()}
            )

        _wait_until(lambda: converged() or bool(errors), timeout=15)
    finally:
        for w in watchers:
            w.stop()
    assert not errors, [repr(e) for e in errors]
    for v in (a, b):
        d = v.detail(rid)
        values = {d.record.value("password")} | {o.value("password") for o in d.others}
        assert values == {"from-a", "from-b"}
        assert v.record(doomed).notes == "edited on B"
    assert a.detail(rid).record.value("password") == b.detail(rid).record.value("password")


def test_watcher_merges_and_retires_a_dropbox_conflicted_copy(tmp_path: Path) -> None:
    folder, a, b = _pair(tmp_path)
    b.add(new_record("note", "Only in the copy"))
    copy = (
        mssb.account_dir(folder, a.slot.account_id) / "data (Bob's conflicted copy 2026-11-22).mssb"
    )
    w = FolderWatcher(FolderSync(a, folder))
    w.start_background()
    try:
        _wait_until(lambda: w._last_seq >= 0)
        copy.write_bytes(
            mssb.encode(mssb.header_for(b.slot, b.device, 9), b.keys, b.store.all_versions())
        )
        _wait_until(lambda: "Only in the copy" in _titles(a) and not copy.exists())
    finally:
        w.stop()
    assert copy.with_name(copy.name + ".merged").exists()


def test_syncthing_copies_merged_damaged_copies_set_aside(tmp_path: Path) -> None:
    folder, a, b = _pair(tmp_path)
    b.add(new_record("note", "Syncthing copy"))
    adir = mssb.account_dir(folder, a.slot.account_id)
    good = adir / "data.sync-conflict-20261122-101010-ABCDEFG.mssb"
    good.write_bytes(
        mssb.encode(mssb.header_for(b.slot, b.device, 9), b.keys, b.store.all_versions())
    )
    bad = adir / "data (conflicted copy 2).mssb"
    bad.write_bytes(b"MSSB garbage")
    report = FolderSync(a, folder).sync_now()
    assert report.merged_copies == [good.name] and "Syncthing copy" in _titles(a)
    assert (adir / (bad.name + ".not-merged")).read_bytes() == b"MSSB garbage"  # left for the user
    assert not good.exists() and not bad.exists()


def test_local_changes_are_pushed_by_the_watcher(tmp_path: Path) -> None:
    folder, a, b = _pair(tmp_path)
    w = FolderWatcher(FolderSync(a, folder))
    w.start_background()
    try:
        _wait_until(lambda: w._last_seq >= 0)
        a.add(new_record("note", "Pushed"))
        _wait_until(
            lambda: any(e.record_id == a.find("Pushed") for e in read_folder(folder, b.keys))
        )
    finally:
        w.stop()


WRITER = """
import sys
from pathlib import Path
from sync.folder import FolderSync
from vault.records import new_record
from vault.vault import Vault
v = Vault.open(Path(sys.argv[1])); v.unlock(sys.argv[3])
s = FolderSync(v, Path(sys.argv[2]))
for i in range(10000):
    v.add(new_record("note", f"n{i}"))
    s.sync_now()
    print(f"n{i}", flush=True)
"""


def test_killing_the_writer_at_any_point_leaves_a_readable_file_with_every_reported_save(
    tmp_path: Path,
) -> None:
    import random
    import signal

    folder, a, b = _pair(tmp_path)
    a.close()
    env = cli_env()
    path = mssb.file_path(folder, b.slot.account_id)
    rng = random.Random(4)
    for round_ in range(4):
        p = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path / "a"), str(folder), PW],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        assert p.stdout is not None
        first = p.stdout.readline()  # the writer is running
        time.sleep(rng.uniform(0.0, 0.4))
        p.send_signal(signal.SIGKILL)
        out, _ = p.communicate(timeout=30)
        reported = {first.strip(), *out.split()} - {""}
        b.apply(read_folder(folder, b.keys))  # always good files
        assert reported <= _titles(b), f"round {round_}: a reported save is missing"
    temps = [*path.parent.glob(".data.mssb.tmp-*"), *path.parent.glob("changes/.*.tmp-*")]
    for t in temps:  # a killed writer may leave its temp file; it is removed once stale
        os.utime(t, (time.time() - 7200, time.time() - 7200))
    FolderSync(b, folder).sync_now()
    assert not [*path.parent.glob(".data.mssb.tmp-*"), *path.parent.glob("changes/.*.tmp-*")]


def test_polling_watcher_for_network_shares(tmp_path: Path) -> None:
    folder, a, b = _pair(tmp_path)
    w = FolderWatcher(FolderSync(a, folder), poll=True)
    w.start_background()
    try:
        assert w.polling
        _wait_until(lambda: w._last_seq >= 0)
        b.add(new_record("note", "Seen by polling"))
        FolderSync(b, folder).sync_now()
        _wait_until(lambda: "Seen by polling" in _titles(a))
    finally:
        w.stop()


def test_password_changed_on_another_device_is_adopted(tmp_path: Path) -> None:
    from sync.mssb import FolderPasswordChangedError
    from vault.errors import WrongPasswordError

    folder, a, b = _pair(tmp_path)
    a.change_password("the new password 123")
    a.add(new_record("note", "After the change"))
    FolderSync(a, folder).sync_now()  # the file now carries epoch 2
    path = mssb.file_path(folder, a.slot.account_id)
    before = path.read_bytes()
    with pytest.raises(FolderPasswordChangedError):
        FolderSync(b, folder).sync_now()
    assert path.read_bytes() == before and "After the change" not in _titles(b)
    with pytest.raises(WrongPasswordError):
        mssb.adopt_new_epoch(b, path, "not the new password")
    assert b.slot.epoch == 1
    mssb.adopt_new_epoch(b, path, "the new password 123")
    assert b.slot.epoch == a.slot.epoch == 2
    FolderSync(b, folder).sync_now()
    assert "After the change" in _titles(b)
    home_b = b.home
    b.close()
    again = Vault.open(home_b)
    again.unlock("the new password 123")
    assert "After the change" in _titles(again)


def test_the_folder_runner_on_its_own_connection_while_the_ui_thread_keeps_writing(
    tmp_path: Path,
) -> None:
    from runtime.runners import FolderRunner, SyncEvent

    folder, a, b = _pair(tmp_path)
    errors: list[BaseException] = []

    def report(event: SyncEvent) -> None:
        if event.error is not None:
            errors.append(event.error)

    w = FolderRunner(a, {"method": "folder", "folder": str(folder)}, report)
    w.start()
    try:
        sb, end = FolderSync(b, folder), time.monotonic() + 2.5
        b_titles: set[str] = set()
        while time.monotonic() < end:  # the "UI thread" saves while the watcher merges B's writes
            a.add(new_record("note", "A"))
            if len(b_titles) < 40:
                b_titles.add(f"B {len(b_titles)}")
                b.add(new_record("note", f"B {len(b_titles) - 1}"))
                sb.sync_now()
        a.change_password("changed while watching")  # the watcher follows the new key slot
        a.add(new_record("note", "After passwd"))
        path = mssb.file_path(folder, a.slot.account_id)

        def a_all_in_file() -> bool:  # every version, under the new password (epoch 2)
            held = {e.vv_text for e in a.store.all_versions()}
            header, in_file = mssb.read_for(path.read_bytes(), a.keys)
            return (
                b_titles <= _titles(a)
                and held <= {e.vv_text for e in in_file}
                and header.epoch == 2
            )

        _wait_until(a_all_in_file, timeout=15)
    finally:
        w.stop()
    assert not errors, [repr(e) for e in errors]
    assert mssb.parse(path.read_bytes())[0].epoch == 2


def test_watcher_pushes_a_password_change_made_here_even_with_no_record_change(
    tmp_path: Path,
) -> None:
    """A new key slot alone (no record saved since) must reach the file, or other devices and a saved
    account key would keep the old password."""
    folder, a, _ = _pair(tmp_path)
    w = FolderWatcher(FolderSync(a, folder))
    w.run_once()
    assert w.run_once() is None  # nothing changed: nothing to do
    epoch = a.slot.epoch
    a.change_password("changed again")
    report = w.run_once()
    assert report is not None and report.wrote
    assert mssb.parse(mssb.file_path(folder, a.slot.account_id).read_bytes())[0].epoch == epoch + 1
    w.stop()


def test_a_kept_folder_sync_writes_exactly_the_store_after_changes_made_elsewhere(
    tmp_path: Path,
) -> None:
    """FolderSync re-reads only records changed since its last sync: edits through another
    connection (the UI while a watcher syncs), superseded versions and merged ones must all show."""
    folder, a, b = _pair(tmp_path)
    s = FolderSync(a, folder)
    s.sync_now()
    other = Vault.open(a.home)
    other.unlock_with_keys(a.keys)
    rid = other.summaries()[0].id
    other.update(
        replace(other.record(rid), notes="edited through another connection")
    )  # old version dropped
    other.add(new_record("note", "Added through another connection"))
    b.add(new_record("note", "From B"))
    FolderSync(b, folder).sync_now()
    for step in range(2):
        s.sync_now()
        in_file = read_folder(folder, a.keys)  # snapshot + change files: their survivors
        assert {
            (e.record_id, e.vv_text, e.ciphertext)
            for versions in by_record(in_file).values()
            for e in survivors(versions)
        } == {(e.record_id, e.vv_text, e.ciphertext) for e in a.store.all_versions()}
        if step == 0:
            other.delete(other.find("From B"))  # a tombstone supersedes the merged version
    assert _titles(a) == {"Shared", "Added through another connection"}
    other.close()
