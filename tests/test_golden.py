"""Golden vectors: the exact bytes of each format, so a change to any of them is a decision, not an accident."""

from __future__ import annotations

from pathlib import Path

from vault import backup
from vault.envelope import Envelope
from vault.kdf import KdfParams
from vault.kitcode import KitPayload

GOLDEN = Path(__file__).parent / "data" / "golden"

KIT = KitPayload("ABCDEFGH23", 3, 7, KdfParams(65536, 3, 4), bytes(range(16)), bytes(range(100, 132)))
KIT_HEX = ("535201000110c8531f5b00030007000100000304000102030405060708090a0b0c0d0e0f"
           "6465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80818283")
KIT_QR = ("KNJACAABCDEFGH23AABQABYAAEAAAAYEAAAQEAYEAUDAOCAJBIFQYDIOB5SGKZTHNBUWU23MNVXG64DROJZXI5LWO54H"
          "S6T3PR6X474AQGBIG")
KIT_TYPED = ("KNJAC-AABCD-EFGH2-3AABQ-ABYAA-EAAAA-YEAAA-QEAYE-AUDAO-CAJBI-FQYDI-OB5SG-KZTHN-BUWU2-3MNVX-"
             "G64DR-OJZXI-5LWO5-4HS6T-3PR6X-474AQ-GBIGA-M")


def test_kit_payload_bytes() -> None:
    assert len(KIT.to_bytes()) == 68
    assert KIT.to_bytes().hex() == KIT_HEX
    assert KIT.to_qr_text() == KIT_QR and len(KIT_QR) == 109
    assert KIT.to_typed_code() == KIT_TYPED
    assert KitPayload.from_bytes(bytes.fromhex(KIT_HEX)) == KIT
    assert KitPayload.from_qr_text(KIT_QR) == KIT
    assert KitPayload.from_typed_code(KIT_TYPED.lower().replace("-", " ")) == KIT


def test_envelope_bytes() -> None:
    live = Envelope("0123456789abcdef", '{"d1":2,"d2":1}', 1700000000123, "d1", False, bytes(range(40)))
    assert live.to_bytes().hex() == (
        "5352450100557b2264656c223a302c22646576223a226431222c22686c63223a313730303030303030303132332c"
        "226964223a2230313233343536373839616263646566222c227676223a7b226431223a322c226432223a317d7d"
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627")
    tomb = Envelope("0123456789abcdef", '{"d1":3}', 5, "d1", True, bytes(28))
    assert tomb.to_bytes().hex() == (
        "5352450100427b2264656c223a312c22646576223a226431222c22686c63223a352c226964223a2230313233343536"
        "373839616263646566222c227676223a7b226431223a337d7d" + "00" * 28)
    assert Envelope.from_bytes(live.to_bytes()) == live and Envelope.from_bytes(tomb.to_bytes()) == tomb


def test_backup_v1_file_still_opens() -> None:
    """A backup written by version 1 of the format (test KDF profile) keeps opening, byte for byte."""
    data = (GOLDEN / "backup-v1.srbk").read_bytes()
    assert data[:5] == b"SRBK\x01"
    header, keys, envelopes = backup.open_backup(data, "golden password")
    assert (header.account_id, header.generation, header.epoch, header.count) == ("X3BWSY7TEA", 1, 1, 1)
    assert header.slot.email == "golden@example.com"
    (rec,) = backup.backup_records(header, keys, envelopes)
    assert (rec.id, rec.title, rec.value("password"), rec.notes, rec.tags, rec.favorite, rec.created) == (
        "00000000000000aa", "Golden", "au-79", "shiny", ("metal",), True, 1700000000.0)
