"""Known answers through our own wrappers: RFC 5869 HKDF and AES-256-GCM (McGrew–Viega)."""

from __future__ import annotations

import pytest

from vault import crypto
from vault.crypto import Sealer, associated_data, hkdf
from vault.errors import TamperError

H = bytes.fromhex


@pytest.mark.parametrize(
    ("ikm", "salt", "info", "length", "okm"),
    [
        (
            b"\x0b" * 22,
            H("000102030405060708090a0b0c"),
            H("f0f1f2f3f4f5f6f7f8f9"),
            42,
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        ),
        (
            bytes(range(0x00, 0x50)),
            bytes(range(0x60, 0xB0)),
            bytes(range(0xB0, 0x100)),
            82,
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09"
            "da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87",
        ),
        (
            b"\x0b" * 22,
            b"",
            b"",
            42,
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        ),
    ],
)
def test_hkdf_rfc5869(ikm: bytes, salt: bytes, info: bytes, length: int, okm: str) -> None:
    assert hkdf(ikm, info, salt=salt or None, length=length).hex() == okm


def test_aes_gcm_zero_key_vectors() -> None:
    sealer = Sealer(bytes(32))
    assert sealer.seal_fixed(b"", b"").hex() == "530f8afbc74536b9a963b4f1c4cb738b"  # test case 13
    assert sealer.seal_fixed(bytes(16), b"").hex() == (  # test case 14
        "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"
    )


def test_aes_gcm_test_case_15_opens_through_our_wrapper() -> None:
    key = H("feffe9928665731c6d6a8f9467308308" * 2)
    iv = H("cafebabefacedbaddecaf888")
    plain = H(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
    )
    ct = H(
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
    )
    tag = H("b094dac5d93471bdec1a502270e3cc6c")
    assert Sealer(key).open(iv + ct + tag, b"") == plain
    with pytest.raises(TamperError):
        Sealer(key).open(iv + ct + bytes([tag[0] ^ 1]) + tag[1:], b"")
    with pytest.raises(TamperError):
        Sealer(key).open(iv + ct + tag, b"x")  # other associated data


def test_associated_data_is_unambiguous() -> None:
    assert associated_data("ns", "ab", "c") != associated_data("ns", "a", "bc")
    assert associated_data("ns", 1) == b"\x00\x00\x00\x02ns\x00\x00\x00\x08" + (1).to_bytes(
        8, "big"
    )


KEY15 = H("feffe9928665731c6d6a8f9467308308" * 2)
IV15 = H("cafebabefacedbaddecaf888")
P15 = H(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
)
C15 = H(
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
)


@pytest.mark.parametrize(
    ("plain", "ad", "ct", "tag"),
    [
        (P15, b"", C15, "b094dac5d93471bdec1a502270e3cc6c"),  # test case 15
        (
            P15[:60],
            H("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
            C15[:60],
            "76fc6ece0f4e1768cddf8853bb2d551b",
        ),  # 16
    ],
)
def test_aes_gcm_test_cases_15_16_through_seal(
    plain: bytes, ad: bytes, ct: bytes, tag: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The random-nonce path (`Sealer.seal`), with the nonce pinned through its seam."""
    monkeypatch.setattr(crypto, "_fresh_nonce", lambda: IV15)
    sealed = Sealer(KEY15).seal(plain, ad)
    assert sealed == IV15 + ct + H(tag)
    assert Sealer(KEY15).open(sealed, ad) == plain
    with pytest.raises(TamperError):
        Sealer(KEY15).open(sealed, ad + b"\x00")


def test_seal_draws_a_fresh_nonce_each_time() -> None:
    sealer = Sealer(bytes(32))
    nonces = {sealer.seal(b"same", b"")[:12] for _ in range(1000)}
    assert len(nonces) == 1000
