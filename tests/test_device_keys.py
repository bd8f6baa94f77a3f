"""Device keys (issue 16 Build 2): the sealed device key, the key wrapped to a device and the
device record, pinned by golden vectors (docs/formats.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vault import crypto, devices
from vault.records import new_record

GOLDEN = Path(__file__).parent / "data" / "golden"


# -- golden vectors ---------------------------------------------------------------------------
DEVICE_PRIVATE = bytes(range(32))
EPHEMERAL = bytes(range(32, 64))


@pytest.fixture
def fixed_randomness(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "_fresh_nonce", lambda: bytes(range(12)))
    monkeypatch.setattr(devices, "_ephemeral", lambda: EPHEMERAL)


def bundle() -> bytes:
    return devices.key_bundle(bytes(range(16)), bytes(range(100, 132)), bytes(range(200, 232)))


def test_wrapped_key_golden_vector(fixed_randomness: None) -> None:
    public = devices.public_key(DEVICE_PRIVATE)
    wrapped = devices.wrap_to_device(bundle(), public, "ABCDEFGH23", 1, 2, "1a2b3c4d")
    expected = (GOLDEN / "device-wrap-v1.hex").read_text().strip()
    assert wrapped.hex() == expected
    assert len(wrapped) == 1 + 32 + 12 + 81 + 16
    assert devices.public_key(EPHEMERAL) == wrapped[1:33]


def test_golden_wrapped_key_opens_and_nothing_else_does() -> None:
    wrapped = bytes.fromhex((GOLDEN / "device-wrap-v1.hex").read_text().strip())
    raw = devices.unwrap_for_device(wrapped, DEVICE_PRIVATE, "ABCDEFGH23", 1, 2, "1a2b3c4d")
    assert raw == bundle()
    assert devices.open_bundle(raw) == (
        bytes(range(16)),
        bytes(range(100, 132)),
        bytes(range(200, 232)),
    )
    wrong = [
        (DEVICE_PRIVATE, "ABCDEFGH23", 1, 2, "ffffffff"),  # another device
        (DEVICE_PRIVATE, "ABCDEFGH23", 1, 1, "1a2b3c4d"),  # another epoch
        (DEVICE_PRIVATE, "ZZCDEFGH23", 1, 2, "1a2b3c4d"),  # another account
        (bytes(range(1, 33)), "ABCDEFGH23", 1, 2, "1a2b3c4d"),  # another device key
    ]
    for args in wrong:
        with pytest.raises(Exception, match="authentication"):
            devices.unwrap_for_device(wrapped, *args)
    flipped = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
    with pytest.raises(Exception, match="authentication"):
        devices.unwrap_for_device(flipped, DEVICE_PRIVATE, "ABCDEFGH23", 1, 2, "1a2b3c4d")
    with pytest.raises(Exception, match="version 2"):
        devices.unwrap_for_device(
            b"\x02" + wrapped[1:], DEVICE_PRIVATE, "ABCDEFGH23", 1, 2, "1a2b3c4d"
        )


def test_sealed_device_key_golden_vector(fixed_randomness: None) -> None:
    key = bytes(range(64, 96))
    blob = devices.seal_private(DEVICE_PRIVATE, key, "ABCDEFGH23", "1a2b3c4d")
    expected = (GOLDEN / "device-key-v1.hex").read_text().strip()
    assert blob.hex() == expected
    assert devices.open_private(bytes.fromhex(expected), key, "ABCDEFGH23", "1a2b3c4d") == (
        DEVICE_PRIVATE,
        devices.public_key(DEVICE_PRIVATE),
    )


def test_device_record_round_trip() -> None:
    entry = devices.DeviceEntry(
        "1a2b3c4d", "laptop", "cloud", 1700000000.5, 1700003600.25, bytes(32)
    )
    rec = entry.to_record()
    assert rec.id == "device-1a2b3c4d" and rec.type == "device"
    assert devices.DeviceEntry.from_record(type(rec).from_json(rec.to_json())) == entry
    forged = new_record("login", "x")
    with pytest.raises(Exception, match="not a device record"):
        devices.DeviceEntry.from_record(forged)
