"""Lengths do not leak: record plaintexts are padded to size buckets (body form 2), and envelopes
sealed before padding (form 1) keep opening and merging beside padded ones, in a real store."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault import padding
from vault.crypto import Sealer
from vault.envelope import Envelope, RecordCipher, record_ad, vv_key
from vault.errors import FormatError, UnsupportedVersionError
from vault.records import Record, new_record
from vault.vault import Vault

PASSWORD = "correct horse battery staple"


def login(title: str, password: str) -> Record:
    return new_record("login", title, {"username": "me", "password": password})


def test_an_8_and_a_64_character_password_seal_to_one_length() -> None:
    cipher = RecordCipher("X3BWSY7TEA", bytes(range(32)))
    short = login("Bank", "a" * 8)
    long = login("Bank", "a" * 64)
    a = cipher.seal(short, short.id, {"d1": 1}, 1, "d1")
    b = cipher.seal(long, long.id, {"d1": 1}, 1, "d1")
    assert len(a.ciphertext) == len(b.ciphertext)
    assert cipher.open(a) == short and cipher.open(b) == long


@given(st.binary(max_size=70_000))
def test_padding_round_trips_to_a_bucket(body: bytes) -> None:
    padded = padding.pad(body)
    assert len(padded) == padding.bucket(len(body) + 2) >= len(body) + 2
    assert padding.unpad(padded) == body


@given(st.integers(min_value=1, max_value=1 << 24))
def test_buckets_cost_at_most_half_and_little_above_64_kib(n: int) -> None:
    size = padding.bucket(n)
    assert size >= n and padding.bucket(size) == size
    assert size <= max(256, 2 * n - 1) and (n <= 65536 or size <= n * 1.12)


def sealed_plaintext(cipher_key: bytes, plaintext: bytes) -> tuple[RecordCipher, Envelope]:
    """An envelope around any plaintext, sealed as RecordCipher would (to test what it reads)."""
    stub = Envelope("00000000000000aa", vv_key({"d1": 1}), 1, "d1", False, b"")
    body = Sealer(cipher_key).seal(plaintext, record_ad("X3BWSY7TEA", stub.header()))
    return RecordCipher("X3BWSY7TEA", cipher_key), Envelope(
        stub.record_id, stub.vv_text, 1, "d1", False, body
    )


@pytest.mark.parametrize(
    "plaintext, error",
    [
        (b"\x02{}\x80" + bytes(251), FormatError),  # not a bucket's length
        (b"\x02{}" + bytes(253), FormatError),  # no marker
        (b"\x02{}\x80" + bytes(251) + b"\x01", FormatError),  # not zeros after the marker
        (b"\x02{}\x80" + bytes(508), FormatError),  # a bucket too large for the body
        (b"\x03{}\x80" + bytes(252), UnsupportedVersionError),  # a form from the future
    ],
    ids=["not-a-bucket", "no-marker", "not-zeros", "bucket-too-large", "future-form"],
)
def test_bad_padding_is_refused_plainly(plaintext: bytes, error: type[Exception]) -> None:
    cipher, env = sealed_plaintext(bytes(range(32)), plaintext)
    with pytest.raises(error):
        cipher.open(env)


def legacy_seal(
    vault: Vault, record: Record | None, record_id: str, vv: dict[str, int]
) -> Envelope:
    """What Strongroom wrote before padding: the bare record JSON (`{}` for a tombstone)."""
    keys = vault.keys
    stub = Envelope(record_id, vv_key(vv), 7, "olddevice", record is None, b"")
    plaintext = record.to_json() if record is not None else b"{}"
    body = Sealer(keys.subkey("records")).seal(plaintext, record_ad(keys.account_id, stub.header()))
    return Envelope(stub.record_id, stub.vv_text, 7, "olddevice", record is None, body)


def test_a_store_with_unpadded_versions_opens_and_merges_with_padded_ones(tmp_path: Path) -> None:
    home = tmp_path / "a"
    vault = Vault.create(home, "alice@example.com", PASSWORD)
    new = vault.add(login("New", "n" * 12))
    (new_env,) = vault.store.versions(new.id)
    old = login("Old", "o" * 8)
    gone = login("Gone", "g" * 8)
    rival = login("New (old device)", "r" * 8)
    vault.apply(
        [
            legacy_seal(vault, old, old.id, {"olddevice": 1}),
            legacy_seal(vault, gone, gone.id, {"olddevice": 2}),
            legacy_seal(vault, None, gone.id, {"olddevice": 3}),
            legacy_seal(vault, dataclasses.replace(rival, id=new.id), new.id, {"olddevice": 4}),
        ]
    )
    vault.close()

    again = Vault.open(home)
    again.unlock(PASSWORD)
    listed = {s.title for s in again.summaries()}
    assert "Old" in listed and "Gone" not in listed and len(listed) == 2
    assert again.record(old.id).value("password") == "o" * 8
    detail = again.detail(new.id)  # a padded and an unpadded version, concurrent: both shown
    assert detail.conflict
    assert {detail.record.title, *(o.title for o in detail.others)} == {"New", "New (old device)"}
    # a new write over an unpadded version is padded
    again.edit(old.id, lambda r: dataclasses.replace(r, notes="kept"))
    (old_now,) = again.store.versions(old.id)
    assert len(new_env.ciphertext) == 12 + 256 + 16
    # padded to a bucket (the edit carries the unpadded version as its history: a bigger one)
    assert len(old_now.ciphertext) - 12 - 16 == padding.bucket(len(old_now.ciphertext) - 12 - 16)
    assert again.record(old.id).value("password") == "o" * 8
