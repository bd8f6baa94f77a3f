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


def _age(path: Path, seconds: float = 2 * 3600) -> None:
    """A blob written `seconds` ago (its mtime), as the collection's safety age reads it."""
    then = path.stat().st_mtime - seconds
    os.utime(path, (then, then))


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
    _age(attachstore.blob_dir(a).path(att.blob))  # past the safety age of a blob just sealed
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
    _age(mine)  # older than the safety age of a blob just sealed
    a.trash(rid)
    a.empty_trash()
    _sync(a, folder, grace=3600)
    _sync(b, folder, grace=3600)
    assert not mine.exists()
    assert folder_blobs(FolderSync(b, folder).account_dir).names() == {att.blob}  # grace: stays


class _LyingPlace:
    """A place (a hostile server) that says it forgot blobs this device did not ask it to forget:
    one a record here still names, one just sealed by another process."""

    def __init__(self, claims: list[str]) -> None:
        self.claims = claims

    def names(self) -> set[str]:
        return set()

    def forget(self, names: list[str]) -> list[str]:
        return self.claims


def test_a_place_cannot_make_this_device_drop_a_blob(tmp_path: Path) -> None:
    from sync.blobsync import BlobReport, tidy

    a, _, folder, rid = _devices(tmp_path)
    src = tmp_path / "keep.pdf"
    src.write_bytes(os.urandom(10_000))
    named = attachstore.add(a, rid, src)
    _age(attachstore.blob_dir(a).path(named.blob))
    with attachstore.blob_dir(a).new() as w:  # sealed, its record not saved yet
        w.write(b"SRAT\x01\x14")
        w.name = "ab" * 32
    report = BlobReport()
    tidy(a, _LyingPlace([named.blob, "ab" * 32]), "test.tidied", report, now=True)  # type: ignore[arg-type]
    assert report.forgotten == 0
    assert attachstore.blob_dir(a).has(named.blob) and attachstore.blob_dir(a).has("ab" * 32)
