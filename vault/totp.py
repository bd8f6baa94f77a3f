"""RFC 6238 one-time passwords from a base32 secret or an otpauth:// URI."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import InvalidInputError

BASE32_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
MIN_SECRET_BYTES = 5
ALGORITHMS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


@dataclass(frozen=True)
class TotpSpec:
    secret: bytes
    digits: int = 6
    period: int = 30
    algorithm: str = "SHA1"
    issuer: str = ""
    label: str = ""

    def __repr__(self) -> str:
        return f"TotpSpec(digits={self.digits}, period={self.period}, algorithm={self.algorithm})"


def _secret(text: str) -> bytes:
    """Decode a base32 secret as people paste it: any case, spaces or dashes, padding optional."""
    cleaned = "".join(text.split()).replace("-", "").upper().rstrip("=")
    if not cleaned:
        raise InvalidInputError("the one-time password secret is empty")
    if not BASE32_ALPHABET.issuperset(cleaned):
        raise InvalidInputError(
            "the one-time password secret is not base32 (letters A-Z and digits 2-7)"
        )
    if len(cleaned) % 8 in (1, 3, 6):
        raise InvalidInputError(
            "the one-time password secret is not valid base32: characters are missing or extra"
        )
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError):
        raise InvalidInputError("the one-time password secret is not valid base32") from None
    if len(raw) < MIN_SECRET_BYTES:
        raise InvalidInputError(
            f"the one-time password secret is too short (under {MIN_SECRET_BYTES} bytes)"
        )
    return raw


def parse_totp(value: str) -> TotpSpec:
    """A bare base32 secret (spaces, case, missing padding forgiven) or an otpauth://totp/ URI.

    Anything unusable raises InvalidInputError (the vault family) with a reason for a person,
    never a bare ValueError, and never quoting the secret.
    """
    value = value.strip()
    if not value.lower().startswith("otpauth://"):
        return TotpSpec(_secret(value))
    try:
        parts = urlsplit(value)
        query = parse_qs(parts.query)
    except ValueError:  # urlsplit refuses e.g. "otpauth://[" (an unclosed IPv6 bracket)
        raise InvalidInputError("the otpauth:// link is not a valid URI") from None
    if parts.netloc.lower() != "totp":
        raise InvalidInputError(
            f"only time-based codes are supported (otpauth://totp/…), not {parts.netloc!r}"
        )
    q = {k.lower(): v[0] for k, v in query.items()}
    if "secret" not in q:
        raise InvalidInputError("the otpauth:// link has no secret")
    algorithm = q.get("algorithm", "SHA1").upper()
    if algorithm not in ALGORITHMS:
        raise InvalidInputError(f"unknown one-time password algorithm {algorithm!r}")
    try:
        digits, period = int(q.get("digits", 6)), int(q.get("period", 30))
    except ValueError:
        raise InvalidInputError("the otpauth:// link has a malformed digits or period") from None
    if digits not in (6, 7, 8) or not 1 <= period <= 3600:
        raise InvalidInputError("the otpauth:// link asks for unsupported digits or period")
    return TotpSpec(
        _secret(q["secret"]),
        digits,
        period,
        algorithm,
        q.get("issuer", ""),
        unquote(parts.path.lstrip("/")),
    )


def hotp(secret: bytes, counter: int, digits: int = 6, algorithm: str = "SHA1") -> str:
    """RFC 4226 HOTP: HMAC of the big-endian counter, dynamically truncated to `digits`."""
    mac = hmac.new(secret, struct.pack(">Q", counter), ALGORITHMS[algorithm]).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def totp_code(spec: TotpSpec, at: float) -> str:
    """The code valid at Unix time `at` (RFC 6238: counter = floor(at / period))."""
    return hotp(spec.secret, int(at // spec.period), spec.digits, spec.algorithm)


def seconds_left(spec: TotpSpec, at: float) -> int:
    """Whole seconds until the code changes (period..1), for the countdown."""
    return spec.period - int(at) % spec.period
