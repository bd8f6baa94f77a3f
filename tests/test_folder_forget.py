"""A sync folder's attachment blobs that no version names any more leave the folder too
(sync/blobsync.py `tidy`): after a purge, at the next sync, once older than the folder's grace
period; never a younger one; and a device whose version still names the file sends it again.
Two real devices, a real folder, files written and read for real."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from sync.blobsync import folder_blobs
from sync.folder import FolderSync, bootstrap_from_folder
from vault import attachstore
from vault.records import new_record
from vault.vault import Vault

PW = "folder forget test password"


def _devices(tmp_path: Path) -> tuple[Vault, Vault, Path, str]:
    folder = tmp_path / "Dropbox"
    folder.mkdir()
    a = Vault.create(tmp_path / "a", "ann@example.com", PW)
    rid = a.add(new_record("login", "Bank")).id
    FolderSync(a, folder).sync_now()
    b = bootstrap_from_folder(tmp_path / "b", folder, "ann@example.com", PW, a.slot.kit)
    return a, b, folder, rid


def _sync(vault: Vault, folder: Path, grace: float = 0) -> FolderSync:
    sync = FolderSync(vault, folder)
    sync.blob_grace_s = grace
    sync.sync_now()
    return sync


def test_a_purged_records_file_leaves_the_folder_but_not_before_the_grace(tmp_path: Path) -> None:
    a, b, folder, rid = _devices(tmp_path)
    src = tmp_path / "scan.pdf"
    src.write_bytes(os.urandom(200_000))
    att = attachstore.add(a, rid, src)
    blobs = folder_blobs(_sync(a, folder).account_dir)
    _sync(b, folder)
    assert blobs.names() == {att.blob} and attachstore.present(b, att)
    a.trash(rid)
    a.empty_trash()
    _sync(a, folder, grace=3600)  # the copy came into the folder a moment ago: it stays
    assert blobs.names() == {att.blob}
    a.trash(a.add(new_record("login", "Other")).id)
    a.empty_trash()  # another purge: the next sync looks again
    _sync(a, folder)
    assert blobs.names() == set()
    assert not attachstore.blob_dir(a).has(att.blob)  # nor sent back by A's next sync
    _sync(a, folder)
    assert blobs.names() == set()


def test_a_device_that_still_names_the_file_sends_it_again(tmp_path: Path) -> None:
    a, b, folder, rid = _devices(tmp_path)
    src = tmp_path / "codes.txt"
    src.write_bytes(os.urandom(60_000))
    att = attachstore.add(a, rid, src)
    blobs = folder_blobs(_sync(a, folder).account_dir)
    _sync(b, folder)
    b.edit(rid, lambda r: replace(r, notes="edited while A purged it"))  # still names the file
    a.trash(rid)
    a.empty_trash()
    _sync(a, folder)
    assert blobs.names() == set()
    _sync(b, folder)  # B's edit beats the purge, and B sends the bytes again
    assert blobs.names() == {att.blob}
    _sync(a, folder)
    (back,) = attachstore.listed(a, rid)
    out = tmp_path / "back.txt"
    attachstore.save_to(a, back, out)
    assert out.read_bytes() == src.read_bytes()


def test_a_purge_received_by_the_background_sync_frees_the_bytes_here(tmp_path: Path) -> None:
    """The folder watcher (`sync serve`, the app) syncs through FolderSync directly, not through
    `sync now`: a purge it brings in still frees this device's copy of the record's files."""
    a, b, folder, rid = _devices(tmp_path)
    src = tmp_path / "scan.pdf"
    src.write_bytes(os.urandom(100_000))
    att = attachstore.add(a, rid, src)
    _sync(a, folder, grace=3600)
    _sync(b, folder, grace=3600)
    mine = attachstore.blob_dir(b).path(att.blob)
    hour_ago = mine.stat().st_mtime - 2 * 3600
    os.utime(mine, (hour_ago, hour_ago))  # older than the safety age of a blob just sealed
    a.trash(rid)
    a.empty_trash()
    _sync(a, folder, grace=3600)
    _sync(b, folder, grace=3600)
    assert not mine.exists()
    assert folder_blobs(FolderSync(b, folder).account_dir).names() == {att.blob}  # grace: stays
