"""Encrypted backups: round trip, tamper, password-in-force, restore semantics."""

from __future__ import annotations

import json
import os
import time
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
    KdfParamsError,
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
    """Each single-bit change anywhere gives a typed error; "wrong password" only inside the key slot
    (a changed salt or Kit is indistinguishable from a wrong password, by design of the AEAD)."""
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    data = path.read_bytes()
    header, container = backup.parse_backup(data)
    slot_start = data.index(b'"slot":"')
    slot_end = len(container.prefix)
    seen: set[type] = set()
    for i in range(len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 0x01
        with pytest.raises(VaultError) as err:
            backup.open_backup(bytes(flipped), PW)
        seen.add(err.type)
        if slot_start <= i < slot_end:
            assert err.type in (FormatError, TamperError, WrongPasswordError, KdfParamsError), (
                i,
                err.value,
            )
        else:
            assert err.type in (FormatError, UnsupportedVersionError, TamperError), (i, err.value)
        assert PW not in str(err.value)
    assert {FormatError, TamperError, UnsupportedVersionError} <= seen


def test_truncated_appended_and_foreign_files(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    data = path.read_bytes()
    for bad in (
        data[:-1],
        data[:-16],
        data[: len(data) // 2],
        data[:10],
        data + b"\x00",
        data + data,
        b"",
        b"SRBK",
        b"SRBK\x01\xff\xff\xff\xff",
        b"PK\x03\x04 a zip file",
    ):
        with pytest.raises((FormatError, TamperError)):
            backup.open_backup(bad, PW)
    with pytest.raises(UnsupportedVersionError, match="version 3"):
        backup.open_backup(data[:4] + b"\x03" + data[5:], PW)
    with pytest.raises(FormatError):  # version 2 names its body length and attachment count
        backup.open_backup(data[:4] + b"\x02" + data[5:], PW)
    with pytest.raises(InvalidInputError, match="no backup file"):
        backup.read_backup(tmp_path / "missing.srbk", PW)
    with pytest.raises(InvalidInputError, match="folder"):
        backup.read_backup(tmp_path, PW)


def test_public_header_needs_no_password(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "b.srbk"
    before = time.time()
    assert backup.create_backup(vault, path) == 2
    header, _ = backup.parse_backup(path.read_bytes())
    assert header.account_id == vault.slot.account_id and header.count == 2
    assert (header.generation, header.epoch) == (vault.slot.generation, vault.slot.epoch)
    assert before - 1 <= header.created <= time.time() + 1
    assert header.slot == vault.slot


def test_failed_write_leaves_nothing_behind(vault: Vault, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep").write_text("x")
    with pytest.raises(InvalidInputError, match="cannot write the backup"):
        backup.create_backup(vault, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "taken"]
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    first = path.read_bytes()
    backup.create_backup(vault, path)  # overwrite in place: still one complete file
    assert path.read_bytes() != first and backup.open_backup(path.read_bytes(), PW)[0].count == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.srbk", "home", "taken"]


def test_only_the_password_in_force_opens_it(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "before.srbk"
    backup.create_backup(vault, path)
    vault.change_password("a brand new password")
    with pytest.raises(WrongPasswordError, match="in force when it was made"):
        backup.restore_backup(vault, path, "a brand new password")
    with pytest.raises(WrongPasswordError, match="in force when it was made"):
        backup.read_backup(path, "a brand new password")
    report = backup.restore_backup(vault, path, PW)
    assert report == backup.RestoreReport(0, 0, 2, 0)
    after = tmp_path / "after.srbk"
    backup.create_backup(vault, after)
    with pytest.raises(WrongPasswordError):
        backup.read_backup(after, PW)
    assert backup.read_backup(after, "a brand new password")[0].count == 2


def test_deleted_come_back_and_newer_edits_are_kept(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    gh_id, diary_id = vault.find("GitHub"), vault.find("Diary")
    vault.delete(diary_id)
    gh = vault.record(gh_id)
    vault.update(
        replace(
            gh,
            fields=tuple(
                replace(f, value="gh-2") if f.name == "password" else f for f in gh.fields
            ),
        )
    )
    report = backup.restore_backup(vault, path, PW)
    assert (report.restored, report.kept_newer) == (1, 1)
    assert vault.record(diary_id).notes == "dear diary"
    gh = vault.record(gh_id)
    assert gh.value("password") == "gh-2"
    assert any(f.value == "gh-1" for h in gh.history for f in h.fields)
    stored = sorted(e.to_bytes() for e in vault.store.all_versions())
    again = backup.restore_backup(vault, path, PW)
    assert again == backup.RestoreReport(0, 1, 1, 0)
    assert (
        sorted(e.to_bytes() for e in vault.store.all_versions()) == stored
    )  # idempotent: nothing written


def test_backup_of_another_account_is_refused(vault: Vault, tmp_path: Path) -> None:
    other = Vault.create(tmp_path / "bob", "bob@example.com", PW)
    other.add(new_record("note", "Bob's"))
    path = tmp_path / "bob.srbk"
    backup.create_backup(other, path)
    with pytest.raises(InvalidInputError, match="belongs to account"):
        backup.restore_backup(vault, path, PW)
    assert _titles(vault) == ["Diary", "GitHub"]


# -- golden vector: the exact v1 layout, checked against an independent AES-GCM/HKDF construction ----------
GOLDEN_KIT = KitPayload(
    "ABCDEFGH23", 1, 2, KdfParams(65536, 3, 4), bytes(range(16)), bytes(range(100, 132))
)
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
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"ABCDEFGH23", info=b"strongroom vk/backup v1"
    ).derive(b"\x02" * 32)
    sealed = data[len(prefix) :]
    body = AESGCM(key).decrypt(sealed[:12], sealed[12:], prefix)
    env_bytes = bytes.fromhex(GOLDEN_ENV_HEX)
    assert body == len(env_bytes).to_bytes(4, "big") + env_bytes
    assert len(data) == len(prefix) + 12 + len(body) + 16
    header, container = backup.parse_backup(data)
    assert (header.account_id, header.generation, header.epoch, header.count, header.created) == (
        "ABCDEFGH23",
        1,
        2,
        1,
        1700000000.5,
    )
    assert header.slot == GOLDEN_SLOT and container.prefix == prefix


def _set_password(rec_vault: Vault, record_id: str, value: str) -> None:
    rec = rec_vault.record(record_id)
    rec_vault.update(
        replace(
            rec,
            fields=tuple(
                replace(f, value=value) if f.name == "password" else f for f in rec.fields
            ),
        )
    )


def test_restore_into_an_empty_vault_of_the_same_account(vault: Vault, tmp_path: Path) -> None:
    """Another device of the account, with nothing in it yet (signed in from the key slot)."""
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    fresh = Vault.adopt(tmp_path / "fresh", vault.slot, vault.keys, [])
    assert fresh.summaries() == []
    assert backup.restore_backup(fresh, path, PW) == backup.RestoreReport(2, 0, 0, 0)
    assert _titles(fresh) == ["Diary", "GitHub"]
    assert fresh.record(fresh.find("GitHub")).value("password") == "gh-1"


def test_backup_newer_than_the_vault_becomes_current(vault: Vault, tmp_path: Path) -> None:
    """A device that missed an edit: the backup's (newer) version wins, the device's goes to history."""
    other = Vault.adopt(tmp_path / "other", vault.slot, vault.keys, vault.store.all_versions())
    gh_id = vault.find("GitHub")
    time.sleep(0.01)
    _set_password(vault, gh_id, "gh-2")
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    assert backup.restore_backup(other, path, PW) == backup.RestoreReport(0, 1, 1, 0)
    gh = other.record(gh_id)
    assert gh.value("password") == "gh-2"
    assert [f.value for h in gh.history for f in h.fields].count("gh-1") == 1
    stored = sorted(e.to_bytes() for e in other.store.all_versions())
    assert backup.restore_backup(other, path, PW) == backup.RestoreReport(0, 0, 2, 0)
    assert sorted(e.to_bytes() for e in other.store.all_versions()) == stored


def test_edits_on_both_sides_keep_every_value(vault: Vault, tmp_path: Path) -> None:
    gh_id = vault.find("GitHub")
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    rec = vault.record(gh_id)
    vault.update(
        replace(
            rec,
            fields=tuple(
                replace(f, value="ann2") if f.name == "username" else f for f in rec.fields
            ),
        )
    )
    report = backup.restore_backup(vault, path, PW)
    assert report.kept_newer == 1
    gh = vault.record(gh_id)
    assert gh.value("username") == "ann2"
    assert any(f.name == "username" and f.value == "ann" for h in gh.history for f in h.fields)


def test_undecryptable_records(vault: Vault, tmp_path: Path) -> None:
    """A damaged copy on this device is replaced by the backup's; a damaged one in the backup is skipped."""
    gh_id = vault.find("GitHub")
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    (cur,) = vault.store.versions(gh_id)
    vv_text = json.dumps({**cur.vv, "zz": 9}, sort_keys=True, separators=(",", ":"))
    vault.store.apply(  # damaged in the store itself (incoming versions are opened first)
        [Envelope(gh_id, vv_text, cur.hlc + 1, "zz", False, os.urandom(len(cur.ciphertext)))]
    )
    with pytest.raises(VaultError, match="cannot be decrypted"):
        vault.record(gh_id)
    assert backup.restore_backup(vault, path, PW).restored == 1
    assert vault.record(gh_id).value("password") == "gh-1"

    envs = vault.store.all_versions()
    damaged = [
        replace(e, ciphertext=bytes(len(e.ciphertext))) if e.record_id == gh_id else e for e in envs
    ]
    data = backup.encode_backup(vault.slot, vault.keys, damaged, time.time())
    bad_path = tmp_path / "damaged.srbk"
    bad_path.write_bytes(data)
    fresh = Vault.adopt(tmp_path / "fresh", vault.slot, vault.keys, [])
    assert backup.restore_backup(fresh, bad_path, PW) == backup.RestoreReport(1, 0, 0, 1)
    assert _titles(fresh) == ["Diary"]


def test_records_deleted_before_the_backup_stay_deleted(vault: Vault, tmp_path: Path) -> None:
    vault.delete(vault.find("Diary"))
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    header, _ = backup.parse_backup(path.read_bytes())
    assert (
        header.count == 1
        and header.params == vault.slot.kit.params
        and header.salt == vault.slot.kit.salt
    )
    fresh = Vault.adopt(tmp_path / "fresh", vault.slot, vault.keys, [])
    assert backup.restore_backup(fresh, path, PW) == backup.RestoreReport(1, 0, 0, 0)
    assert _titles(fresh) == ["GitHub"]
    new_home, count = backup.restore_into_new_home(tmp_path / "new", path, PW)
    assert count == 1 and _titles(new_home) == ["GitHub"]


def test_backup_survives_an_account_key_rotation(vault: Vault, tmp_path: Path) -> None:
    """Rotating the Account Key (same password) keeps VK: the older backup still restores."""
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    vault.delete(vault.find("Diary"))
    vault.rotate_account_key(PW)
    assert backup.restore_backup(vault, path, PW) == backup.RestoreReport(1, 0, 1, 0)
    assert _titles(vault) == ["Diary", "GitHub"]


def _with_kit_params(data: bytes, params: KdfParams) -> bytes:
    """The backup with its key slot's KDF cost rewritten and the header re-encoded canonically."""
    header, container = backup.parse_backup(data)
    slot = replace(header.slot, kit=replace(header.slot.kit, params=params))
    obj = replace(header, slot=slot).to_obj()
    hbytes = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    return b"SRBK\x01" + len(hbytes).to_bytes(4, "big") + hbytes + container.sealed_body


@pytest.mark.parametrize(
    "params", [KdfParams(8192, 1, 1), KdfParams(4 * 1024 * 1024, 3, 4), KdfParams(65536, 50, 4)]
)
def test_kdf_cost_outside_floor_or_ceiling_is_refused_before_any_kdf(
    vault: Vault, tmp_path: Path, params: KdfParams
) -> None:
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    bad = _with_kit_params(path.read_bytes(), params)
    start = time.perf_counter()
    with pytest.raises(KdfParamsError, match="refusing key-derivation cost"):
        backup.open_backup(bad, PW)
    assert time.perf_counter() - start < 0.5
