"""Encrypted backups: round trip, tamper, password-in-force, restore semantics."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from vault import backup
from vault.errors import (
    FormatError,
    InvalidInputError,
    TamperError,
    UnsupportedVersionError,
    VaultError,
    WrongPasswordError,
)
from vault.records import new_record
from vault.vault import Vault

PW = "backup test password"


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    v = Vault.create(tmp_path / "home", "ann@example.com", PW)
    v.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-1"}, tags=("work",)))
    v.add(new_record("note", "Diary", notes="dear diary"))
    return v


def _titles(v: Vault) -> list[str]:
    return sorted(s.title for s in v.summaries())


def test_round_trip_into_a_new_home(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_bytes()[:5] == b"SRBK\x01"
    restored, count = backup.restore_into_new_home(tmp_path / "other", path, PW)
    assert count == 2 and _titles(restored) == ["Diary", "GitHub"]
    gh = restored.record(restored.find("GitHub"))
    assert gh.value("password") == "gh-1" and gh.tags == ("work",)
    reopened = Vault.open(tmp_path / "other")
    reopened.unlock(PW)
    assert _titles(reopened) == ["Diary", "GitHub"]


def test_no_plaintext_in_the_backup(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    data = path.read_bytes()
    for secret in (b"GitHub", b"gh-1", b"dear diary", b"work", b"Diary"):
        assert secret not in data


def test_every_flipped_byte_is_detected(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    data = path.read_bytes()
    step = max(1, len(data) // 300)
    for i in list(range(0, len(data), step)) + [len(data) - 1]:
        bad = bytearray(data)
        bad[i] ^= 0x01
        with pytest.raises(VaultError):
            backup.open_backup(bytes(bad), PW)
    for bad in (data[:-1], data[: len(data) // 2], data[:10], data + b"\x00", b"", b"SRBK"):
        with pytest.raises((FormatError, TamperError)):
            backup.open_backup(bad, PW)
    with pytest.raises(UnsupportedVersionError):
        backup.open_backup(data[:4] + b"\x02" + data[5:], PW)


def test_only_the_password_in_force_opens_it(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "before.srbk"
    backup.create_backup(vault, path)
    vault.change_password("a brand new password")
    with pytest.raises(WrongPasswordError, match="in force when it was made"):
        backup.restore_backup(vault, path, "a brand new password")
    report = backup.restore_backup(vault, path, PW)
    assert report.unchanged == 2


def test_deleted_come_back_and_newer_edits_are_kept(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    gh_id, diary_id = vault.find("GitHub"), vault.find("Diary")
    vault.delete(diary_id)
    gh = vault.record(gh_id)
    vault.update(replace(gh, fields=tuple(replace(f, value="gh-2") if f.name == "password" else f for f in gh.fields)))
    report = backup.restore_backup(vault, path, PW)
    assert (report.restored, report.kept_newer) == (1, 1)
    assert vault.record(diary_id).notes == "dear diary"
    gh = vault.record(gh_id)
    assert gh.value("password") == "gh-2"
    assert any(f.value == "gh-1" for h in gh.history for f in h.fields)
    again = backup.restore_backup(vault, path, PW)
    assert again.restored == 0


def test_backup_of_another_account_is_refused(vault: Vault, tmp_path: Path) -> None:
    other = Vault.create(tmp_path / "bob", "bob@example.com", PW)
    other.add(new_record("note", "Bob's"))
    path = tmp_path / "bob.srbk"
    backup.create_backup(other, path)
    with pytest.raises(InvalidInputError, match="belongs to account"):
        backup.restore_backup(vault, path, PW)
    assert _titles(vault) == ["Diary", "GitHub"]
