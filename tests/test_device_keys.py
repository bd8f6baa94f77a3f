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


# -- removal formats (vault/removal.py) -------------------------------------------------------
def test_key_bundle_v2_carries_the_new_kit_and_v1_still_opens() -> None:
    kit = bytes(range(68))
    raw = devices.key_bundle(bytes(range(16)), bytes(range(100, 132)), bytes(range(200, 232)), kit)
    assert raw[0] == 2 and len(raw) == 149
    assert devices.open_bundle_kit(raw)[3] == kit
    assert devices.open_bundle(raw) == devices.open_bundle(bundle())
    assert devices.open_bundle_kit(bundle())[3] == b""
    with pytest.raises(Exception, match="version 03"):
        devices.open_bundle_kit(b"\x03" + raw[1:])
    with pytest.raises(Exception, match="malformed"):
        devices.open_bundle_kit(raw[:-1])


def _keys(epoch: int, vk: bytes) -> object:
    from vault.keys import UnlockedKeys

    return UnlockedKeys("ABCDEFGH23", 1, epoch, bytes(16), vk, bytes(32))


def _change() -> object:
    from vault import removal

    old, new = _keys(2, bytes(range(32))), _keys(3, bytes(range(1, 33)))
    return removal.KeyChange(
        "ABCDEFGH23",
        1,
        2,
        3,
        removal.key_id(old),  # type: ignore[arg-type]
        removal.key_id(new),  # type: ignore[arg-type]
        "1a2b3c4d",
        "5e6f7a8b",
        "old laptop",
        "desk",
        1796650000.0,
        bytes(range(60)),
        {"5e6f7a8b": bytes(range(210)), "9c0d1e2f": bytes(range(1, 211))},
    )


def test_key_change_golden_vector(fixed_randomness: None) -> None:
    from vault import removal

    old = _keys(2, bytes(range(32)))
    sealed = _change().seal(old)  # type: ignore[attr-defined]
    expected = (GOLDEN / "key-change-v1.hex").read_text().strip()
    assert sealed.hex() == expected
    opened = removal.open_change(bytes.fromhex(expected), old)  # type: ignore[arg-type]
    assert opened == _change()
    assert removal.read_header(sealed)["removed"] == "1a2b3c4d"


def test_key_change_opens_only_with_the_keys_it_moves_from() -> None:
    from vault import removal
    from vault.errors import TamperError

    old = _keys(2, bytes(range(32)))
    sealed = _change().seal(old)  # type: ignore[attr-defined]
    with pytest.raises(TamperError):
        removal.open_change(sealed, _keys(2, bytes(range(2, 34))))  # type: ignore[arg-type]
    for i in range(len(sealed)):
        flipped = sealed[:i] + bytes([sealed[i] ^ 1]) + sealed[i + 1 :]
        with pytest.raises(Exception):  # noqa: B017 - any typed refusal: format, version or tag
            removal.open_change(flipped, old)  # type: ignore[arg-type]


def test_rekey_is_deterministic_so_two_devices_agree_byte_for_byte() -> None:
    from vault import removal
    from vault.crypto import Sealer
    from vault.envelope import RecordCipher

    old, new = _keys(2, bytes(range(32))), _keys(3, bytes(range(1, 33)))
    rec = new_record("login", "GitHub", {"password": "gh"})
    env = RecordCipher("ABCDEFGH23", old.subkey("records")).seal(  # type: ignore[attr-defined]
        rec, rec.id, {"a": 1}, 5, "a"
    )
    args = (
        Sealer(old.subkey("records")),  # type: ignore[attr-defined]
        Sealer(new.subkey("records")),  # type: ignore[attr-defined]
        new.subkey("rekey-nonce"),  # type: ignore[attr-defined]
        "ABCDEFGH23",
    )
    one, two = removal.rekey_envelope(env, *args), removal.rekey_envelope(env, *args)
    assert one == two and one != env.ciphertext
    moved = type(env)(env.record_id, env.vv_text, env.hlc, env.device, env.deleted, one)
    assert RecordCipher("ABCDEFGH23", new.subkey("records")).open(moved) == rec  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="authentication"):
        RecordCipher("ABCDEFGH23", old.subkey("records")).open(moved)  # type: ignore[attr-defined]


def test_any_bytes_as_a_key_change_are_a_typed_refusal() -> None:
    """Whatever a folder, a server or a Wi-Fi peer hands over as a key change: a typed error
    (exit 2-4 at the CLI), never a crash (exit 70)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from vault import removal
    from vault.errors import VaultError

    old = _keys(2, bytes(range(32)))
    sealed = _change().seal(old)  # type: ignore[attr-defined]

    @settings(max_examples=300, deadline=None)
    @given(
        st.one_of(
            st.binary(max_size=400),
            st.builds(lambda cut: sealed[:cut], st.integers(0, len(sealed))),
            st.builds(
                lambda i, b: sealed[:i] + bytes([b]) + sealed[i + 1 :],
                st.integers(0, len(sealed) - 1),
                st.integers(0, 255),
            ),
        )
    )
    def check(data: bytes) -> None:
        try:
            removal.open_change(data, old)  # type: ignore[arg-type]
        except VaultError:
            pass
        try:
            removal.read_header(data)
        except VaultError:
            pass

    check()


def test_wrapped_bundle_v2_golden_vector(fixed_randomness: None) -> None:
    """What a removal hands each remaining device: the v1 wrap of a v2 key bundle (new Kit
    payload included), 210 bytes."""
    kit = bytes(range(68))
    raw = devices.key_bundle(bytes(range(16)), bytes(range(100, 132)), bytes(range(200, 232)), kit)
    wrapped = devices.wrap_to_device(
        raw, devices.public_key(DEVICE_PRIVATE), "ABCDEFGH23", 1, 2, "1a2b3c4d"
    )
    expected = (GOLDEN / "device-wrap-bundle-v2.hex").read_text().strip()
    assert wrapped.hex() == expected and len(wrapped) == 210
    opened = devices.unwrap_for_device(
        bytes.fromhex(expected), DEVICE_PRIVATE, "ABCDEFGH23", 1, 2, "1a2b3c4d"
    )
    assert devices.open_bundle_kit(opened)[3] == kit
