"""Tamper: flipped bytes, truncation, appended bytes and swapped ciphertexts are all detected, typed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from vault import keys as keymod
from vault.envelope import Envelope, RecordCipher
from vault.errors import (
    FormatError,
    KitError,
    TamperError,
    UnsupportedVersionError,
    VaultError,
    WrongPasswordError,
)
from vault.kitcode import KitPayload
from vault.records import new_record

PW = "tamper test password"


@pytest.fixture(scope="module")
def account() -> tuple[keymod.KeySlot, keymod.UnlockedKeys]:
    return keymod.create_account("t@example.com", PW)


def test_every_byte_of_the_kit_payload_matters(account: tuple[keymod.KeySlot, keymod.UnlockedKeys]) -> None:
    slot, _ = account
    raw = slot.kit.to_bytes()
    for i in range(len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0x04
        with pytest.raises(VaultError):
            kit = KitPayload.from_bytes(bytes(bad))
            keymod.unlock(replace(slot, kit=kit), PW)
    for cut in (raw[:-1], raw + b"\x00", raw[:3], b""):
        with pytest.raises(KitError):
            KitPayload.from_bytes(cut)


def test_every_byte_of_an_envelope_matters(account: tuple[keymod.KeySlot, keymod.UnlockedKeys]) -> None:
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


def test_ciphertexts_cannot_move_between_records_or_accounts(account: tuple[keymod.KeySlot, keymod.UnlockedKeys]) -> None:
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


def test_wrapped_vault_key_is_bound_to_its_slot(account: tuple[keymod.KeySlot, keymod.UnlockedKeys]) -> None:
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
    db.execute("UPDATE versions SET body=? WHERE record_id=?", (bytes([blob[0] ^ 1]) + blob[1:], broken.id))
    db.execute("DELETE FROM cache")
    db.commit()
    db.close()
    v = Vault.open(tmp_path / "h")
    v.unlock(PW)
    titles = sorted(s.title for s in v.summaries())
    assert titles == sorted(["Fine", DECRYPTION_ERROR])
    assert v.record(v.find("Fine")).title == "Fine"
