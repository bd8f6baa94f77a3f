"""Folder layout 2 (issue 19 Build 1, issue 16 Build 4, issue 17 Build 3): a snapshot plus small
immutable change files; real folders, real files, real CLI processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from clikit import REPO, cli_env, run_cli

from sync import folderlog, mssb
from sync.folder import (
    COMPACT_RATIO,
    MIN_COMPACT,
    FolderSlotConflictError,
    FolderSync,
    bootstrap_from_folder,
    read_folder,
)
from sync.foldernames import is_snapshot_copy, is_sync_file
from sync.folderstate import FolderState
from vault.kitcode import KitPayload
from vault.records import new_record
from vault.vault import Vault

PW = "layout two password"
GOLDEN = Path(__file__).parent / "data" / "golden"
#: the Kit of the account that wrote tests/data/golden/data-layout1.mssb (test KDF profile)
GOLDEN_KIT = (
    "KNJACAQDUYHTQHMBAAAQAAIAAAAQAAIB5TX3U42VVSD4DFXJQXNEIVBSEBWKQNOMWH3Y6WLUWBJPYQ7XSUPHRIANOJM25"
    "AXBZGXMDX4B7FQ4U"
)
GOLDEN_ACCOUNT = "QDUYHTQHMB"


def _pair(tmp_path: Path, n: int = 3) -> tuple[Path, Vault, Vault]:
    folder = tmp_path / "Dropbox"
    folder.mkdir()
    a = Vault.create(tmp_path / "a", "x@example.com", PW)
    a.add_many([new_record("login", f"Site {i}", {"username": f"u{i}"}) for i in range(n)])
    FolderSync(a, folder).sync_now()
    b = bootstrap_from_folder(tmp_path / "b", folder, "x@example.com", PW, a.slot.kit)
    return folder, a, b


def _titles(v: Vault) -> set[str]:
    return {s.title for s in v.summaries()}


def test_one_change_is_one_small_file_and_the_snapshot_is_untouched(tmp_path: Path) -> None:
    folder, a, b = _pair(tmp_path, 50)
    sa, sb = FolderSync(a, folder), FolderSync(b, folder)
    before = sa.path.stat()
    rid = a.summaries()[7].id
    a.update(replace(a.record(rid), notes="changed on A"))
    wrote = sa.sync_now()
    assert wrote.wrote and not wrote.compacted and wrote.bytes_read == 0
    assert 0 < wrote.bytes_written < 4096
    (change,) = (folder / a.slot.account_id / "changes").iterdir()
    assert sb.wrote(change) is False and sa.wrote(change) is True
    got = sb.sync_now()
    assert got.received == 1 and not got.wrote and got.bytes_read == change.stat().st_size
    assert b.record(rid).notes == "changed on A"
    after = sa.path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    # Nothing new: a new process (fresh FolderSync, state from the store) reads nothing at all.
    again = FolderSync(b, folder).sync_now()
    assert again.bytes_read == 0 and again.bytes_written == 0 and not again.wrote
    assert FolderSync(a, folder).sync_now().bytes_read == 0


def test_compaction_folds_change_files_and_every_device_converges(tmp_path: Path) -> None:
    folder, a, b = _pair(tmp_path, 5)
    sa, sb = FolderSync(a, folder), FolderSync(b, folder)
    changes = folder / a.slot.account_id / "changes"
    rid = a.summaries()[0].id
    compactions = 0
    k = 0
    held: list[int] = []  # bytes of change files before each sync
    while compactions == 0:
        a.update(replace(a.record(rid), notes="x" * 3000 + str(k)))
        held.append(sum(p.stat().st_size for p in changes.iterdir()) if changes.exists() else 0)
        compactions += sa.sync_now().compacted
        k += 1
    # threshold max(256 KiB, snapshot / COMPACT_RATIO): change files pile up to about 256 KiB
    # first (each edit carries the record's history, so they grow edit by edit)
    assert COMPACT_RATIO == 8 and k > 5
    assert max(held[:-1]) <= MIN_COMPACT and held[-1] > MIN_COMPACT // 2
    assert not list(changes.iterdir())  # folded and deleted
    b.add(new_record("note", "From B"))
    got = sb.sync_now()  # B reads the new snapshot whole (the amortised part), publishes its own
    assert got.received == 1 and got.wrote and b.record(rid).notes.endswith(str(k - 1))
    assert sa.sync_now().received == 1 and "From B" in _titles(a)
    assert _titles(a) == _titles(b)


@pytest.mark.parametrize(
    "name",
    [
        "data (Bob's conflicted copy 2026-12-07).mssb",  # Dropbox
        "data 2.mssb",  # iCloud Drive
        "data (1).mssb",  # Google Drive
        "data-DESKTOP-7Q3K.mssb",  # OneDrive
        "data.sync-conflict-20261207-101112-ABCDEFG.mssb",  # Syncthing
        "data (conflicted copy 2026-12-07 101112).mssb",  # Nextcloud
    ],
)
def test_conflicted_copies_of_every_provider_are_merged(tmp_path: Path, name: str) -> None:
    folder, a, b = _pair(tmp_path)
    assert is_snapshot_copy(name) and is_sync_file(name)
    b.add(new_record("note", "Only in the copy"))
    sb = FolderSync(b, folder)
    snapshot_a = sb.path.read_bytes()
    sb.path.unlink()
    sb.sync_now()  # B writes a whole snapshot at the same time as A: the provider keeps A's …
    copy = sb.path.with_name(name)
    sb.path.replace(copy)  # … and B's as a conflicted copy
    sb.path.write_bytes(snapshot_a)
    a.add(new_record("note", "Only in A"))
    report = FolderSync(a, folder).sync_now()
    assert report.merged_copies == [name] and not copy.exists()
    assert copy.with_name(name + ".merged").exists()
    assert {"Only in A", "Only in the copy"} <= _titles(a)
    FolderSync(b, folder).sync_now()
    assert _titles(a) == _titles(b)


def test_copies_of_change_files_are_read_whatever_their_name(tmp_path: Path) -> None:
    folder, a, b = _pair(tmp_path)
    a.add(new_record("note", "In a change file"))
    FolderSync(a, folder).sync_now()
    changes = folder / a.slot.account_id / "changes"
    (original,) = changes.iterdir()
    copy = changes / (original.stem + " (DESKTOP-7Q3K's conflicted copy).mslog")
    original.rename(copy)
    assert is_sync_file(f"changes/{copy.name}")
    assert FolderSync(b, folder).sync_now().received == 1
    assert "In a change file" in _titles(b)


def test_set_aside_and_temp_names_never_count() -> None:
    for name in (
        "data.obsolete-1-20261207T101112.mssb",
        "data.damaged-20261207T101112.mssb",
        "data (1).mssb.merged",
        ".data.mssb.tmp-0a1b2c3d",
        ".data.mssb.icloud",
        "account.key",
        "changes/.x-000001-ab.mslog.tmp-12345678",
        "changes/x-000001-ab.mslog.damaged",
        "changes/deeper/x.mslog",
    ):
        assert not is_sync_file(name), name
    assert is_sync_file("data.mssb") and is_sync_file("changes/x-000001-0a1b2c3d.mslog")


def test_damaged_change_file_is_skipped_reported_and_repaired(tmp_path: Path) -> None:
    folder, a, b = _pair(tmp_path)
    a.add(new_record("note", "Lost in a damaged file"))
    FolderSync(a, folder).sync_now()
    changes = folder / a.slot.account_id / "changes"
    (change,) = changes.iterdir()
    data = bytearray(change.read_bytes())
    data[-5] ^= 0x40
    change.write_bytes(bytes(data))
    got = FolderSync(b, folder).sync_now()
    assert got.problems and "altered or damaged" in got.problems[0]
    assert got.compacted  # the repair: a fresh snapshot, read whole by the other devices
    assert (changes / (change.name + ".damaged")).exists() and not change.exists()
    st_b = FolderState.load(b.store)
    assert [p.file for p in st_b.problems] == [f"changes/{change.name}.damaged"]
    # A reads the new snapshot, finds its version missing from the folder, publishes it again.
    assert FolderSync(a, folder).sync_now().wrote
    FolderSync(b, folder).sync_now()
    assert "Lost in a damaged file" in _titles(b)


def test_migration_from_a_layout1_file_loses_nothing(tmp_path: Path) -> None:
    """The golden layout-1 data.mssb (written before layout 2: a tombstone and a conflict in it)."""
    folder = tmp_path / "f"
    (folder / GOLDEN_ACCOUNT).mkdir(parents=True)
    old = (GOLDEN / "data-layout1.mssb").read_bytes()
    (folder / GOLDEN_ACCOUNT / "data.mssb").write_bytes(old)
    kit = KitPayload.from_qr_text(GOLDEN_KIT)
    v = bootstrap_from_folder(tmp_path / "n", folder, "golden@example.com", "golden password", kit)
    header, old_versions = mssb.read_for(old, v.keys)
    assert header.fmt == 1 and header.kid is None
    key = {(e.record_id, e.vv_text, e.ciphertext) for e in old_versions}
    assert len(key) == 4 and any(e.deleted for e in old_versions)
    assert {(e.record_id, e.vv_text, e.ciphertext) for e in v.store.all_versions()} == key
    new = (folder / GOLDEN_ACCOUNT / "data.mssb").read_bytes()
    assert new != old  # migrated at once: layout 2, marked as read by a layout-1 device lately
    header2, versions2 = mssb.read_for(new, v.keys)  # what a layout-1 reader does
    assert header2.fmt == 2 and header2.kid == mssb.key_id(v.keys) and header2.legacy
    assert {(e.record_id, e.vv_text, e.ciphertext) for e in versions2} == key
    # While a layout-1 device was seen lately, every change is a whole snapshot it can read.
    v.add(new_record("note", "Seen by an old device"))
    assert FolderSync(v, folder).sync_now().compacted
    _, versions3 = mssb.read_for((folder / GOLDEN_ACCOUNT / "data.mssb").read_bytes(), v.keys)
    assert key < {(e.record_id, e.vv_text, e.ciphertext) for e in versions3}


OLD_DEVICE = """
import sys
from pathlib import Path
from sync.folder import FolderSync
from vault.records import new_record
from vault.vault import Vault
v = Vault.open(Path(sys.argv[1])); v.unlock(sys.argv[3])
assert not hasattr(FolderSync, "fingerprint")  # really the layout-1 code
s = FolderSync(v, Path(sys.argv[2]))
s.sync_now()
print(sorted(x.title for x in v.summaries()))
v.add(new_record("note", "Written by the old device"))
s.sync_now()
"""


def test_a_device_running_the_layout1_code_reads_and_writes_alongside(tmp_path: Path) -> None:
    """The sync package as it was before layout 2 (from git), on its own home, same folder."""
    old = tmp_path / "old-code"
    (old / "sync").mkdir(parents=True)
    for name in ("__init__.py", "errors.py", "mssb.py", "folder.py", "folderkey.py"):
        got = subprocess.run(["git", "show", f"b9079a3:sync/{name}"], cwd=REPO, capture_output=True)
        if got.returncode != 0:
            pytest.skip("the layout-1 code is not in this clone's history")
        (old / "sync" / name).write_bytes(got.stdout)
    folder, a, b = _pair(tmp_path)
    b.close()
    a.add(new_record("note", "In a change file"))
    FolderSync(a, folder).sync_now()  # layout 2: a change file the old code cannot see …
    env = cli_env() | {"PYTHONPATH": f"{old}{os.pathsep}{REPO}"}
    run = subprocess.run(
        [sys.executable, "-c", OLD_DEVICE, str(tmp_path / "b"), str(folder), PW],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "In a change file" not in run.stdout  # … until the next compaction
    got = FolderSync(a, folder).sync_now()  # the old device wrote data.mssb: compact at once
    assert got.compacted and "Written by the old device" in _titles(a)
    run = subprocess.run(
        [sys.executable, "-c", OLD_DEVICE, str(tmp_path / "b"), str(folder), PW],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "In a change file" in run.stdout  # the old device has everything now


def cli(home: Path, *args: str, password: str = PW, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(cli_env(home, password, **env), *args, cwd=home.parent)


def ok(home: Path, *args: str, **kw: str) -> str:
    r = cli(home, *args, **kw)
    assert r.returncode == 0, f"{args}: {r.stderr}"
    return r.stdout


def test_a_changed_generation_reads_as_altered_never_as_a_reset(tmp_path: Path) -> None:
    """Issue 16: `"gen": 2` edited into data.mssb → "altered", no reset flow, no exit 70."""
    a, folder = tmp_path / "a", tmp_path / "Dropbox"
    folder.mkdir()
    account = ok(a, "signup", "--email", "g@example.com", "--kit-dir", str(tmp_path)).strip()
    ok(a, "add", "note", "--title", "Kept")
    ok(a, "sync", "folder", str(folder))
    path = folder / account / "data.mssb"
    data = path.read_bytes()
    assert b'"gen":1' in data
    path.write_bytes(data.replace(b'"gen":1', b'"gen":2', 1))
    r = cli(a, "sync", "now")
    assert r.returncode == 0, r.stderr
    assert "altered" in r.stderr and "reset" not in r.stderr.lower()
    assert not list(a.glob("**/*.srbk"))  # no reset backup was made
    st = json.loads(ok(a, "sync", "status", "--json"))
    assert "altered" in st["folder_problems"][0]["reason"]
    assert mssb.parse(path.read_bytes())[0].generation == 1  # repaired
    # A layout-1 file (no key id) with its generation edited: the same answer.
    v = Vault.open(a)
    v.unlock(PW)
    legacy = mssb.encode(mssb.header_for(v.slot, v.device, 1), v.keys, v.store.all_versions())
    with pytest.raises(mssb.FolderFileAlteredError, match="generation was changed"):
        mssb.open_snapshot(legacy.replace(b'"gen":1', b'"gen":2', 1), v.keys)
    v.close()


def test_second_concurrent_password_change_is_refused_and_the_first_adopted(
    tmp_path: Path,
) -> None:
    """Issue 17: B changes the password while the folder is unreachable, A changes it after;
    B is refused and adopts A's; a new device signs in with exactly one password + Kit."""
    a, b, folder = tmp_path / "a", tmp_path / "b", tmp_path / "Dropbox"
    kits_a, kits_b = tmp_path / "kits-a", tmp_path / "kits-b"
    for d in (folder, kits_a, kits_b):
        d.mkdir()
    account = ok(a, "signup", "--email", "c@example.com", "--kit-dir", str(tmp_path)).strip()
    ok(a, "add", "note", "--title", "Before")
    ok(a, "sync", "folder", str(folder))
    kit = tmp_path / f"Strongroom-Authentication-Kit-{account}.png"
    ok(b, "signin", "--email", "c@example.com", "--kit", str(kit), "--folder", str(folder))
    kit_name = f"Strongroom-Authentication-Kit-{account}.png"

    folder.rename(tmp_path / "unmounted")  # B's folder is unreachable
    r = cli(b, "passwd", "--kit-dir", str(kits_b), STRONGROOM_NEW_PASSWORD="B's new password")
    assert r.returncode == 0, r.stderr
    assert "still carries the old password" in r.stderr
    ok(b, "add", "note", "--title", "Made on B meanwhile", password="B's new password")
    (tmp_path / "unmounted").rename(folder)

    r = cli(a, "passwd", "--kit-dir", str(kits_a), STRONGROOM_NEW_PASSWORD="A's new password")
    assert r.returncode == 0 and "now carries the new password" in r.stderr, r.stderr

    # B comes back: its change came second, so it is refused; without the password it stops.
    r = cli(b, "sync", "now", password="B's new password")
    assert r.returncode == 3, r.stderr
    assert "also changed on another device" in r.stderr and "refused" in r.stderr
    r = cli(
        b, "sync", "now", password="B's new password", STRONGROOM_NEW_PASSWORD="A's new password"
    )
    assert r.returncode == 0, r.stderr
    assert "Adopted" in r.stderr
    ok(a, "sync", "now", password="A's new password")
    titles = {d["title"] for d in json.loads(ok(a, "ls", "--json", password="A's new password"))}
    assert titles == {"Before", "Made on B meanwhile"}
    ok(b, "ls", password="A's new password")  # B now unlocks with A's password
    assert cli(b, "ls", password="B's new password").returncode != 0

    # A new device: A's password + A's Kit sign in; B's password + B's Kit do not.
    c = tmp_path / "c"
    r = cli(
        c,
        "signin",
        "--email",
        "c@example.com",
        "--kit",
        str(kits_b / kit_name),
        "--folder",
        str(folder),
        password="B's new password",
    )
    assert r.returncode != 0 and r.returncode != 70
    assert not (c / "vault.db").exists()
    r = cli(
        c,
        "signin",
        "--email",
        "c@example.com",
        "--kit",
        str(kits_a / kit_name),
        "--folder",
        str(folder),
        password="A's new password",
    )
    assert r.returncode == 0, r.stderr
    titles = {d["title"] for d in json.loads(ok(c, "ls", "--json", password="A's new password"))}
    assert titles == {"Before", "Made on B meanwhile"}


def test_password_change_is_refused_up_front_when_the_folder_has_another(tmp_path: Path) -> None:
    folder, a, b = _pair(tmp_path)
    from sync import method

    a.update_settings(sync={"method": "folder", "folder": str(folder)})
    b.update_settings(sync={"method": "folder", "folder": str(folder)})
    method.change_password(a, "A changed it first")
    FolderSync(a, folder).sync_now()
    with pytest.raises(FolderSlotConflictError, match="already changed on another device"):
        method.change_password(b, "B second")
    assert b.slot.epoch == 1  # nothing changed on B


def test_change_files_never_announce_a_password_change(tmp_path: Path) -> None:
    """A pending change (folder unreachable) is published only by a snapshot: a change file
    written meanwhile carries no slot and no epoch."""
    folder, a, b = _pair(tmp_path)
    a.add(new_record("note", "x"))
    FolderSync(a, folder).sync_now()
    (change,) = (folder / a.slot.account_id / "changes").iterdir()
    header = folderlog.ChangeHeader.from_obj(
        mssb.parse_sealed(change.read_bytes(), folderlog.MAGIC, 1, "x").header, "x"
    )
    assert set(header.to_obj()) == {"account", "gen", "kid", "writer", "n"}
    assert read_folder(folder, b.keys)


def test_account_key_rotation_is_compare_and_swap_too(tmp_path: Path) -> None:
    """Issue 17 Build 3 names key rotation beside password changes: a rotation that reached the
    folder first makes the other device's password change and its own rotation refused, and the
    other way round, with nothing changed on the refused device."""
    from sync import method

    folder, a, b = _pair(tmp_path)
    a.update_settings(sync={"method": "folder", "folder": str(folder)})
    b.update_settings(sync={"method": "folder", "folder": str(folder)})
    method.rotate_account_key(a, PW)
    FolderSync(a, folder).sync_now()
    before = b.slot
    with pytest.raises(FolderSlotConflictError, match="already changed on another device"):
        method.change_password(b, "B second")
    with pytest.raises(FolderSlotConflictError, match="already changed on another device"):
        method.rotate_account_key(b, PW)
    assert b.slot == before  # nothing changed on B

    (tmp_path / "second").mkdir()
    folder2, c, d = _pair(tmp_path / "second")
    c.update_settings(sync={"method": "folder", "folder": str(folder2)})
    d.update_settings(sync={"method": "folder", "folder": str(folder2)})
    method.change_password(c, "C changed it first")
    FolderSync(c, folder2).sync_now()
    before = d.slot
    with pytest.raises(FolderSlotConflictError, match="already changed on another device"):
        method.rotate_account_key(d, PW)
    assert d.slot == before
