"""Encrypted backups: round trip, tamper, password-in-force, restore semantics."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault import backup
from vault.envelope import Envelope
from vault.errors import (
    FormatError,
    InvalidInputError,
    TamperError,
    UnsupportedVersionError,
    VaultError,
    WrongPasswordError,
)
from vault.kdf import KdfParams
from vault.keys import KeySlot, UnlockedKeys
from vault.kitcode import KitPayload
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
        flipped = bytearray(data)
        flipped[i] ^= 0x01
        with pytest.raises(VaultError):
            backup.open_backup(bytes(flipped), PW)
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


# -- golden vector: the exact v1 layout, checked against an independent AES-GCM/HKDF construction ----------
GOLDEN_KIT = KitPayload("ABCDEFGH23", 1, 2, KdfParams(65536, 3, 4), bytes(range(16)), bytes(range(100, 132)))
GOLDEN_SLOT = KeySlot("ann@example.com", GOLDEN_KIT, bytes(range(60)), "a hint")
GOLDEN_KEYS = UnlockedKeys("ABCDEFGH23", 1, 2, b"\x01" * 32, b"\x02" * 32, b"\x03" * 32)
GOLDEN_ENV = Envelope("0123456789abcdef", '{"d1":1}', 1700000000000, "d1", False, bytes(range(40)))
GOLDEN_HEADER = (
    b'{"account":"ABCDEFGH23","count":1,"created":1700000000.5,"epoch":2,"gen":1,'
    b'"slot":"{\\"email\\": \\"ann@example.com\\", \\"hint\\": \\"a hint\\", '
    b'\\"kit\\": \\"KNJACAABCDEFGH23AAAQAAQAAEAAAAYEAAAQEAYEAUDAOCAJBIFQYDIOB5SGKZTHNBUWU23MNVXG64DROJZXI5LWO'
    b'54HS6T3PR6X474AQGBIG\\", \\"v\\": 1, '
    b'\\"wvk\\": \\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7\\"}"}'
)
GOLDEN_ENV_HEX = (
    "53524501004e7b2264656c223a302c22646576223a226431222c22686c63223a313730303030303030303030302c"
    "226964223a2230313233343536373839616263646566222c227676223a7b226431223a317d7d"
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627"
)


def test_golden_layout() -> None:
    """magic SRBK | version 1 | u32 header length | canonical JSON header | nonce 12 | AES-256-GCM body | tag 16.

    Key = HKDF-SHA256(VK, salt = account id, info "strongroom vk/backup v1"); associated data = everything
    before the nonce; body = u32-length-prefixed envelopes. Only the nonce is random.
    """
    data = backup.encode_backup(GOLDEN_SLOT, GOLDEN_KEYS, [GOLDEN_ENV], 1700000000.5)
    prefix = b"SRBK\x01" + len(GOLDEN_HEADER).to_bytes(4, "big") + GOLDEN_HEADER
    assert len(GOLDEN_HEADER) == 368
    assert data.startswith(prefix)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ABCDEFGH23", info=b"strongroom vk/backup v1").derive(
        b"\x02" * 32)
    sealed = data[len(prefix):]
    body = AESGCM(key).decrypt(sealed[:12], sealed[12:], prefix)
    env_bytes = bytes.fromhex(GOLDEN_ENV_HEX)
    assert body == len(env_bytes).to_bytes(4, "big") + env_bytes
    assert len(data) == len(prefix) + 12 + len(body) + 16
    header, container = backup.parse_backup(data)
    assert (header.account_id, header.generation, header.epoch, header.count, header.created) == (
        "ABCDEFGH23", 1, 2, 1, 1700000000.5)
    assert header.slot == GOLDEN_SLOT and container.prefix == prefix
