"""TOTP: RFC 6238 appendix B vectors, bare secrets, otpauth:// URIs, bad input."""

from __future__ import annotations

import base64

import pytest

from vault.errors import InvalidInputError
from vault.totp import TotpSpec, parse_totp, seconds_left, totp_code

SEEDS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890" * 6 + b"1234",
}
# RFC 6238 appendix B: (time, SHA1, SHA256, SHA512), 8 digits, period 30
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


def b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode()


@pytest.mark.parametrize("at, sha1, sha256, sha512", VECTORS)
def test_rfc6238_vectors(at: int, sha1: str, sha256: str, sha512: str) -> None:
    for algorithm, expected in (("SHA1", sha1), ("SHA256", sha256), ("SHA512", sha512)):
        uri = f"otpauth://totp/Example:alice?secret={b32(SEEDS[algorithm])}&algorithm={algorithm}&digits=8&period=30"
        assert totp_code(parse_totp(uri), at) == expected
        assert totp_code(TotpSpec(SEEDS[algorithm], 8, 30, algorithm), at + 0.999) == expected


def test_six_digits_are_the_low_digits_of_the_truncation() -> None:
    spec = parse_totp(b32(SEEDS["SHA1"]))
    assert (spec.digits, spec.period, spec.algorithm) == (6, 30, "SHA1")
    for at, sha1, _, _ in VECTORS:
        assert totp_code(spec, at) == sha1[-6:]


def test_bare_secret_is_forgiving() -> None:
    canonical = "JBSWY3DPEHPK3PXP"
    expected = parse_totp(canonical)
    for variant in (
        "jbswy3dpehpk3pxp",
        "JBSW Y3DP EHPK 3PXP",
        "  jbsw-y3dp-ehpk-3pxp\n",
        "JBSWY3DPEHPK3PXP====",
    ):
        assert parse_totp(variant).secret == expected.secret
    # missing padding: 10 bytes encode to 16 chars, 11 bytes need padding that users drop
    raw = b"hello world"
    assert parse_totp(b32(raw).rstrip("=")).secret == raw


def test_uri_parameters() -> None:
    spec = parse_totp(
        "otpauth://totp/ACME%20Co:john%40example.com?secret=jbswy3dpehpk3pxp"
        "&issuer=ACME%20Co&algorithm=sha256&digits=8&period=60"
    )
    assert spec.secret == parse_totp("JBSWY3DPEHPK3PXP").secret
    assert (spec.algorithm, spec.digits, spec.period) == ("SHA256", 8, 60)
    assert spec.issuer == "ACME Co"
    assert spec.label == "ACME Co:john@example.com"
    defaults = parse_totp("OTPAUTH://TOTP/x?SECRET=JBSWY3DPEHPK3PXP")
    assert (defaults.algorithm, defaults.digits, defaults.period) == ("SHA1", 6, 30)


def test_seconds_left_counts_down_within_the_period() -> None:
    spec = parse_totp("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=30")
    assert seconds_left(spec, 0) == 30
    assert seconds_left(spec, 1) == 29
    assert seconds_left(spec, 29.9) == 1
    assert seconds_left(spec, 30) == 30
    assert totp_code(spec, 30) == totp_code(spec, 59.99) != totp_code(spec, 29.99)


@pytest.mark.parametrize(
    "value, words",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("not base32!", "base32"),
        ("JBSWY3DPEHPK3PX1", "base32"),
        ("ABC", "missing or extra"),
        ("ABCD", "too short"),
        ("otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=1", "time-based"),
        ("otpauth://totp/x?issuer=nobody", "no secret"),
        ("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5", "algorithm"),
        ("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=six", "malformed"),
        ("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=4", "unsupported"),
        ("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=0", "unsupported"),
        ("otpauth://totp/x?secret=%21%21", "base32"),
        ("otpauth://[", "not a valid URI"),
        ("otpauth://[totp/x?secret=JBSWY3DPEHPK3PXP", "not a valid URI"),
    ],
)
def test_bad_input_is_refused_clearly(value: str, words: str) -> None:
    with pytest.raises(InvalidInputError, match=words):
        parse_totp(value)


def test_secret_never_in_repr_or_errors() -> None:
    spec = parse_totp("JBSWY3DPEHPK3PXP")
    assert "JBSW" not in repr(spec) and "Hello" not in repr(spec)
    with pytest.raises(InvalidInputError) as exc:
        parse_totp("otpauth://totp/x?secret=SECRETVALUE1&digits=9")
    assert "SECRETVALUE" not in str(exc.value)
