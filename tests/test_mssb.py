"""data.mssb format: round trip, every flipped byte refused with a typed SyncError, obsolete /
foreign / newer-version files, atomic verified save, merge-before-save when another device wrote."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sync import mssb
from sync.errors import (
    ForeignSyncFileError,
    NotASyncFileError,
    ObsoleteSyncFileError,
    SourceUnavailableError,
    SyncError,
    SyncFileVersionError,
)
from sync.folder import FolderSync, bootstrap_from_folder, read_folder
from vault.envelope import Envelope, vv_key
from vault.errors import EpochChangedError, GenerationChangedError
from vault.records import new_record
from vault.vault import Vault

PW = "mssb test password"


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    v = Vault.create(tmp_path / "a", "m@example.com", PW)
    v.add(new_record("login", "Bank", {"password": "hunter2-secret"}))
    v.add(new_record("note", "Diary"))
    return v


def _encode(v: Vault, seq: int = 1) -> bytes:
    return mssb.encode(mssb.header_for(v.slot, v.device, seq), v.keys, v.store.all_versions())


def test_round_trip_keeps_every_version_and_no_plaintext(vault: Vault) -> None:
    data = _encode(vault, seq=7)
    header, envs = mssb.read_for(data, vault.keys)
    assert (header.account_id, header.generation, header.epoch, header.seq) == (
        vault.slot.account_id,
        vault.slot.generation,
        vault.slot.epoch,
        7,
    )
    assert header.device == vault.device and header.wrapped_vk == vault.slot.wrapped_vk
    key = {(e.record_id, e.vv_text, e.ciphertext) for e in vault.store.all_versions()}
    assert {(e.record_id, e.vv_text, e.ciphertext) for e in envs} == key
    for plain in (b"Bank", b"Diary", b"hunter2-secret", b"m@example.com", PW.encode()):
        assert plain not in data
    assert "wvk" in header.to_obj() and mssb.MssbHeader.from_obj(header.to_obj()) == header


def test_every_flipped_byte_is_a_typed_sync_error(vault: Vault) -> None:
    data = _encode(vault)
    for i in range(len(data)):
        for bit in (0x01, 0x80):
            bad = bytearray(data)
            bad[i] ^= bit
            with pytest.raises(SyncError):
                mssb.read_for(bytes(bad), vault.keys)


def test_truncated_and_garbage(vault: Vault) -> None:
    data = _encode(vault)
    for n in (0, 3, 4, 5, 9, 40, len(data) // 2, len(data) - 1):
        with pytest.raises(NotASyncFileError):
            mssb.read_for(data[:n], vault.keys)
    with pytest.raises(NotASyncFileError):
        mssb.read_for(os.urandom(2000), vault.keys)
    with pytest.raises(NotASyncFileError):
        mssb.read_for(data + b"x", vault.keys)


def test_future_version_says_update(vault: Vault) -> None:
    data = bytearray(_encode(vault))
    data[len(mssb.MAGIC)] = mssb.VERSION + 1
    with pytest.raises(SyncFileVersionError, match="newer Strongroom"):
        mssb.read_for(bytes(data), vault.keys)


def test_foreign_account(vault: Vault, tmp_path: Path) -> None:
    other = Vault.create(tmp_path / "o", "o@example.com", PW)
    with pytest.raises(ForeignSyncFileError, match=other.slot.account_id):
        mssb.read_for(_encode(other), vault.keys)


def test_password_changed_elsewhere_is_authenticated_first(vault: Vault, tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    FolderSync(vault, folder).sync_now()
    b = bootstrap_from_folder(tmp_path / "b", folder, "m@example.com", PW, vault.slot.kit)
    b.change_password("a brand new password")
    newer = _encode(b)
    with pytest.raises(EpochChangedError) as got:
        mssb.read_for(newer, vault.keys)
    assert isinstance(got.value, SyncError)  # also the sync family: exit code, watcher error report
    # The same header claim, forged onto our own file, fails authentication instead.
    header, container = mssb.parse(_encode(vault))
    forged = mssb.MssbHeader(**{**header.__dict__, "epoch": header.epoch + 1})
    from vault.container import encode_header

    tampered = _encode(vault).replace(
        encode_header(header.to_obj()), encode_header(forged.to_obj())
    )
    with pytest.raises(NotASyncFileError):
        mssb.read_for(tampered, vault.keys)


def test_obsolete_and_newer_generation(vault: Vault, tmp_path: Path) -> None:
    header, _ = mssb.parse(_encode(vault))
    from vault.container import seal_container

    older = seal_container(
        mssb.MAGIC, mssb.VERSION, {**header.to_obj(), "gen": 1}, b"", os.urandom(32)
    )
    newer = seal_container(
        mssb.MAGIC, mssb.VERSION, {**header.to_obj(), "gen": 2}, b"", os.urandom(32)
    )
    with pytest.raises(GenerationChangedError) as reset:
        mssb.read_for(newer, vault.keys)
    assert isinstance(reset.value, SyncError)
    # A device on generation 2 meets a generation-1 file: obsolete, renamed aside, never merged.
    mssb.check_for(header, header.account_id, 1, 1)
    with pytest.raises(ObsoleteSyncFileError, match="obsolete"):
        mssb.check_for(mssb.parse(older)[0], header.account_id, 2, 1)
    path = tmp_path / "data.mssb"
    path.write_bytes(older)
    moved = mssb.retire_obsolete(path, 1)
    assert (
        not path.exists()
        and moved.read_bytes() == older
        and moved.name.startswith("data.obsolete-1-")
    )


def test_atomic_write_never_replaces_with_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "data.mssb"
    path.write_bytes(b"old")

    def refuse(data: bytes) -> None:
        raise NotASyncFileError("read back wrong")

    with pytest.raises(NotASyncFileError):
        mssb.write_atomic(path, b"new", refuse)
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == [
        "data.mssb"
    ]
    mssb.write_atomic(path, b"new", lambda b: None, expected=b"old")
    assert path.read_bytes() == b"new" and os.stat(path).st_mode & 0o777 == 0o600
    # Someone replaced the file after we read it: refuse, leave theirs, no temp left behind.
    with pytest.raises(mssb.FileChangedWhileWritingError):
        mssb.write_atomic(path, b"ours", lambda b: None, expected=b"old")
    assert path.read_bytes() == b"new" and len(list(tmp_path.iterdir())) == 1
    with pytest.raises(mssb.FileChangedWhileWritingError):
        mssb.write_atomic(tmp_path / "fresh.mssb", b"x", lambda b: None, expected=b"something")
    with pytest.raises(SourceUnavailableError):
        mssb.write_atomic(tmp_path / "gone" / "data.mssb", b"x", lambda b: None)


class RacingSync(FolderSync):
    """Device A whose save is overtaken: device B writes data.mssb while A verifies its temp file."""

    def __init__(self, vault: Vault, folder: Path, other: FolderSync) -> None:
        super().__init__(vault, folder)
        self.other: FolderSync | None = other

    def _verify(self, data: bytes, written: bytes) -> None:
        super()._verify(data, written)
        if self.other is not None:
            other, self.other = self.other, None
            other.sync_now()


def test_merge_before_save_when_the_file_changed_since_read(vault: Vault, tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    FolderSync(vault, folder).sync_now()
    b = bootstrap_from_folder(tmp_path / "b", folder, "m@example.com", PW, vault.slot.kit)
    b.add(new_record("note", "Written by B meanwhile"))
    vault.add(new_record("note", "Written by A"))
    mssb.file_path(folder, vault.slot.account_id).unlink()  # both devices write a snapshot now
    report = RacingSync(vault, folder, FolderSync(b, folder)).sync_now()
    assert report.wrote  # B's snapshot won the race; A read it and published the rest
    envs = read_folder(folder, vault.keys)
    titles = {s.title for s in vault.summaries()}
    assert {"Written by A", "Written by B meanwhile"} <= titles
    in_file = {(e.record_id, e.vv_text) for e in envs}
    assert {(e.record_id, e.vv_text) for e in vault.store.all_versions()} <= in_file


def test_envelopes_survive_pack_for_large_files(vault: Vault) -> None:
    many = [
        Envelope(f"r{i:05d}", vv_key({"dev": 1}), i, "dev", False, os.urandom(200))
        for i in range(2000)
    ]
    vault.store.apply(many)  # stored as they are: this is about the file, not about opening
    _, envs = mssb.read_for(_encode(vault), vault.keys)
    assert len(envs) == len(vault.store.all_versions()) >= 2002


def test_codec_matches_the_vault_format_and_reuses_parses(vault: Vault) -> None:
    from vault.envelope import pack_envelopes, unpack_envelopes

    codec = mssb.Codec()
    envs = vault.store.all_versions()
    body = codec.pack(envs)
    assert body == pack_envelopes(envs) == codec.pack(envs)
    assert codec.unpack(body) == unpack_envelopes(body) == envs
    again = codec.unpack(body)
    assert all(x is y for x, y in zip(again, envs, strict=True))  # the earlier objects, no re-parse
    for bad in (body[:-1], body + b"\0\0", body[:3]):
        with pytest.raises(Exception) as fresh:
            unpack_envelopes(bad)
        with pytest.raises(type(fresh.value)):
            codec.unpack(bad)
