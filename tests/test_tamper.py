"""Tamper: flipped bytes, truncation, appended bytes and swapped ciphertexts are all detected, typed."""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vault import backup
from vault import keys as keymod
from vault.container import encode_header, open_container, parse_container, seal_container
from vault.envelope import Envelope, RecordCipher
from vault.errors import (
    FormatError,
    KdfParamsError,
    KitError,
    TamperError,
    UnsupportedVersionError,
    WrongPasswordError,
)
from vault.kdf import KdfParams
from vault.kitcode import KitPayload
from vault.records import new_record

PW = "tamper test password"


@pytest.fixture(scope="module")
def account() -> tuple[keymod.KeySlot, keymod.UnlockedKeys]:
    return keymod.create_account("t@example.com", PW)


def test_every_byte_of_the_kit_payload_matters(
    account: tuple[keymod.KeySlot, keymod.UnlockedKeys],
) -> None:
    slot, _ = account
    raw = slot.kit.to_bytes()
    for i in range(len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0x04
        # magic/version → KitError; account id, generation, epoch → their AD fails (WrongPassword: the
        # Kit no longer opens); KDF cost → refused; salt/EAK → cannot be told from a wrong password.
        with pytest.raises((KitError, KdfParamsError, WrongPasswordError)):
            kit = KitPayload.from_bytes(bytes(bad))
            keymod.unlock(replace(slot, kit=kit), PW)
    for cut in (raw[:-1], raw + b"\x00", raw[:3], b""):
        with pytest.raises(KitError):
            KitPayload.from_bytes(cut)


def test_every_byte_of_an_envelope_matters(
    account: tuple[keymod.KeySlot, keymod.UnlockedKeys],
) -> None:
    _, keys = account
    cipher = RecordCipher(keys.account_id, keys.subkey("records"))
    rec = new_record("login", "Bank", {"password": "p"})
    raw = cipher.seal(rec, rec.id, {"d1": 1}, 1, "d1").to_bytes()
    for i in range(len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0x01
        with pytest.raises((FormatError, TamperError, UnsupportedVersionError)):
            cipher.open(Envelope.from_bytes(bytes(bad)))
    for cut in (raw[:-1], raw + b"x", raw[:5]):
        with pytest.raises((FormatError, TamperError)):
            cipher.open(Envelope.from_bytes(cut))


def test_ciphertexts_cannot_move_between_records_or_accounts(
    account: tuple[keymod.KeySlot, keymod.UnlockedKeys],
) -> None:
    _, keys = account
    cipher = RecordCipher(keys.account_id, keys.subkey("records"))
    a, b = new_record("note", "A"), new_record("note", "B")
    ea, eb = cipher.seal(a, a.id, {"d": 1}, 1, "d"), cipher.seal(b, b.id, {"d": 1}, 1, "d")
    with pytest.raises(TamperError):
        cipher.open(replace(ea, ciphertext=eb.ciphertext))
    with pytest.raises(TamperError):
        cipher.open(replace(ea, vv_text='{"d":2}'))  # an older body presented as a newer version
    with pytest.raises(TamperError):
        cipher.open(replace(ea, deleted=True))
    other = RecordCipher("ZZZZZZZZZZ", keys.subkey("records"))  # same key, other account id
    with pytest.raises(TamperError):
        other.open(ea)


def test_wrapped_vault_key_is_bound_to_its_slot(
    account: tuple[keymod.KeySlot, keymod.UnlockedKeys],
) -> None:
    slot, _ = account
    other_slot, _ = keymod.create_account("o@example.com", PW)
    with pytest.raises(TamperError):
        keymod.unlock(replace(slot, wrapped_vk=other_slot.wrapped_vk), PW)
    with pytest.raises(WrongPasswordError):
        keymod.unlock(slot, PW + "x")


def test_damaged_local_store_row_shows_decryption_error(tmp_path: Path) -> None:
    import sqlite3

    from vault.records import DECRYPTION_ERROR
    from vault.vault import Vault

    v = Vault.create(tmp_path / "h", "d@example.com", PW)
    v.add(new_record("note", "Fine"))
    broken = v.add(new_record("note", "Broken"))
    v.close()
    db = sqlite3.connect(tmp_path / "h" / "vault.db")
    blob = db.execute("SELECT body FROM versions WHERE record_id=?", (broken.id,)).fetchone()[0]
    db.execute(
        "UPDATE versions SET body=? WHERE record_id=?", (bytes([blob[0] ^ 1]) + blob[1:], broken.id)
    )
    db.execute("DELETE FROM cache")
    db.commit()
    db.close()
    v = Vault.open(tmp_path / "h")
    v.unlock(PW)
    titles = sorted(s.title for s in v.summaries())
    assert titles == sorted(["Fine", DECRYPTION_ERROR])
    assert v.record(v.find("Fine")).title == "Fine"


KEY = bytes(range(32))


def test_every_byte_of_a_container_matters() -> None:
    raw = seal_container(b"SRXX", 1, {"account": "X3BWSY7TEA", "gen": 1}, b"secret body" * 5, KEY)
    for i in range(len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0x01
        with pytest.raises((FormatError, TamperError, UnsupportedVersionError)):
            open_container(parse_container(bytes(bad), b"SRXX", 1, "test file"), KEY, "test file")
    for cut in (raw[:-1], raw[:-16], raw + b"\x00", raw + raw, raw[:8], b""):
        with pytest.raises((FormatError, TamperError)):
            open_container(parse_container(cut, b"SRXX", 1, "test file"), KEY, "test file")


@pytest.fixture(scope="module")
def backup_bytes(account: tuple[keymod.KeySlot, keymod.UnlockedKeys]) -> bytes:
    slot, keys = account
    cipher = RecordCipher(keys.account_id, keys.subkey("records"))
    rec = new_record("login", "Backed up", {"password": "p"})
    return backup.encode_backup(
        slot, keys, [cipher.seal(rec, rec.id, {"d": 1}, 1, "d")], 1700000000.0
    )


def test_every_byte_of_a_backup_matters(backup_bytes: bytes) -> None:
    """Header bytes (including the Kit and KDF cost inside it) and body bytes: all typed failures."""
    assert backup.open_backup(backup_bytes, PW)[0].count == 1
    body_start = len(parse_container(backup_bytes, backup.MAGIC, backup.VERSION, "backup").prefix)
    seen: set[type[BaseException]] = set()
    for i in range(len(backup_bytes)):
        bad = bytearray(backup_bytes)
        bad[i] ^= 0x01
        # A damaged salt or EAK inside the header's Kit cannot be told from a wrong password without
        # the password (nothing authenticates them before the KDF), so WrongPasswordError is allowed there.
        allowed = (
            (TamperError,)
            if i >= body_start
            else (FormatError, TamperError, KitError, KdfParamsError, WrongPasswordError)
        )
        with pytest.raises(allowed) as e:
            backup.open_backup(bytes(bad), PW)
        seen.add(e.type)
    assert {FormatError, TamperError, KdfParamsError, WrongPasswordError} <= seen
    for cut in (backup_bytes[:-1], backup_bytes + b"\x00", backup_bytes[:40]):
        with pytest.raises((FormatError, TamperError)):
            backup.open_backup(cut, PW)


def _with_header(data: bytes, header: dict[str, Any]) -> bytes:
    """Re-frame a container with an edited (but canonical) header, keeping the old sealed body."""
    c = parse_container(data, backup.MAGIC, backup.VERSION, "backup")
    h = encode_header(header)
    return backup.MAGIC + bytes([backup.VERSION]) + struct.pack(">I", len(h)) + h + c.sealed_body


@pytest.mark.parametrize(
    "params",
    [
        KdfParams(8 * 1024, 1, 1),
        KdfParams(19 * 1024, 1, 1),
        KdfParams(4 * 1024 * 1024, 3, 4),
        KdfParams(65536, 100, 4),
    ],
)
def test_backup_header_with_weakened_kdf_cost_is_refused_before_any_kdf(
    backup_bytes: bytes, params: KdfParams, argon2_calls: list[tuple[object, ...]]
) -> None:
    header = parse_container(backup_bytes, backup.MAGIC, backup.VERSION, "backup").header
    slot = keymod.KeySlot.from_bytes(header["slot"].encode())
    forged = replace(slot, kit=replace(slot.kit, params=params))
    data = _with_header(backup_bytes, header | {"slot": forged.to_bytes().decode()})
    with pytest.raises(KdfParamsError):
        backup.open_backup(data, PW)
    assert not argon2_calls, "Argon2id ran on refused parameters"


def test_records_cannot_move_between_vaults(tmp_path: Path) -> None:
    """A version copied from account A's store into account B's: refused at the door (kept aside,
    counted); one already in B's store (before open-before-merge) shows a decryption error, never
    A's data."""
    from vault.intake import NOT_OURS
    from vault.records import DECRYPTION_ERROR
    from vault.vault import Vault

    a = Vault.create(tmp_path / "a", "a@example.com", PW)
    b = Vault.create(tmp_path / "b", "b@example.com", PW)
    moved = a.add(new_record("note", "From A"))
    b.add(new_record("note", "B's own"))
    versions = [e for e in a.store.all_versions() if e.record_id == moved.id]
    assert b.apply(versions, "folder") == []
    assert [(src, why, n) for src, why, n, _ in b.store.refused_summary()] == [
        ("folder", NOT_OURS, 1)
    ]
    assert [s.title for s in b.summaries()] == ["B's own"]
    b.store.apply(versions)  # as if stored by a build that merged without opening
    assert sorted(s.title for s in b.summaries()) == sorted(["B's own", DECRYPTION_ERROR])
    with pytest.raises(TamperError):
        b.record(moved.id)
    a.close()
    b.close()


def test_damaged_key_slot_is_tamper_not_a_foreign_kit(tmp_path: Path) -> None:
    """The password opens this device's Kit but the wrapped VK is damaged → TamperError (was KitError)."""
    import sqlite3

    from vault.vault import Vault

    Vault.create(tmp_path / "h", "d@example.com", PW).close()
    db = sqlite3.connect(tmp_path / "h" / "vault.db")
    slot = keymod.KeySlot.from_bytes(
        db.execute("SELECT value FROM meta WHERE key='slot'").fetchone()[0]
    )
    wvk = bytearray(slot.wrapped_vk)
    wvk[-1] ^= 0x80
    db.execute(
        "UPDATE meta SET value=? WHERE key='slot'",
        (replace(slot, wrapped_vk=bytes(wvk)).to_bytes(),),
    )
    db.commit()
    db.close()
    v = Vault.open(tmp_path / "h")
    with pytest.raises(TamperError) as e:
        v.unlock(PW)
    assert "damaged" in str(e.value)
    with pytest.raises(WrongPasswordError):
        v.unlock(PW + "!")
    v.close()


def test_typed_code_typos_are_caught_before_any_kdf(
    account: tuple[keymod.KeySlot, keymod.UnlockedKeys],
) -> None:
    """Every single-character substitution and every adjacent transposition → KitError(TYPO)."""
    from vault.errors import KitReason
    from vault.kitcode import ALPHABET, normalize_typed

    slot, _ = account
    text = normalize_typed(slot.kit.to_typed_code())
    for i, ch in enumerate(text):
        for other in ALPHABET:
            if other == ch:
                continue
            with pytest.raises(KitError) as e:
                KitPayload.from_typed_code(text[:i] + other + text[i + 1 :])
            assert e.value.reason in (KitReason.TYPO, KitReason.NOT_STRONGROOM)
    for i in range(len(text) - 1):
        if text[i] != text[i + 1]:
            with pytest.raises(KitError) as e:
                KitPayload.from_typed_code(text[:i] + text[i + 1] + text[i] + text[i + 2 :])
            assert e.value.reason in (KitReason.TYPO, KitReason.NOT_STRONGROOM)
    for cut in (text[:-1], text[1:], text + "A", text[:-5]):
        with pytest.raises(KitError):
            KitPayload.from_typed_code(cut)


def test_qr_text_edits_are_typed(account: tuple[keymod.KeySlot, keymod.UnlockedKeys]) -> None:
    slot, _ = account
    text = slot.kit.to_qr_text()
    for i in range(len(text)):
        for other in ("B", "Q", "7"):
            if other == text[i]:
                continue
            try:
                kit = KitPayload.from_qr_text(text[:i] + other + text[i + 1 :])
            except KitError:
                continue
            if kit == slot.kit:  # only the last character's unused low bit changed: same 68 bytes
                assert i == len(text) - 1
                continue
            with pytest.raises((KdfParamsError, WrongPasswordError)):
                keymod.unlock(replace(slot, kit=kit), PW)
    for bad in (
        text[:-1],
        text + "A",
        text[:-8],
        text + "AAAAAAAA",
        "",
        "hello world",
        text.replace("A", "0"),
    ):
        with pytest.raises(KitError):
            KitPayload.from_qr_text(bad)


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=109, max_size=109))
def test_check_characters_catch_every_substitution_and_adjacent_transposition(body: str) -> None:
    """Any 109-character text, the check characters included: one wrong or two swapped → a typo."""
    from vault.kitcode import ALPHABET, _check_chars

    full = body + _check_chars(body)

    def accepted(text: str) -> bool:
        return _check_chars(text[:-2]) == text[-2:]

    for i in range(len(full) - 1):
        if full[i] != full[i + 1]:
            assert not accepted(full[:i] + full[i + 1] + full[i] + full[i + 2 :]), f"swap at {i}"
    for i, ch in enumerate(full):
        for other in ALPHABET:
            if other != ch:
                assert not accepted(full[:i] + other + full[i + 1 :]), f"{other} at {i}"


def test_a_and_7_swapped_is_caught() -> None:
    """The pair Luhn mod 32 missed (values 0 and 31), mid-text and next to the check characters."""
    from vault.kitcode import _check_chars

    body = "B" * 50 + "A7" + "C" * 57
    swapped = "B" * 50 + "7A" + "C" * 57
    assert _check_chars(body) != _check_chars(swapped)
    tail = "D" * 107 + "A7"
    assert _check_chars(tail)[0] != _check_chars("D" * 107 + "7A")[0]
