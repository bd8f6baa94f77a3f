"""The Authentication Kit payload: binary, versioned, 68 bytes, carried as base32 text.

Layout (big endian), all header bytes are AEAD associated data for the Encrypted Account Key:

    magic "SR" | version u8 | account id (10 base32 chars packed in 7 bytes) | generation u16
    | epoch u16 | m_kib u32 | t u8 | p u8 | salt 16 | EAK = AES-256-GCM(K_qr, AK) 16 + tag 16

The QR holds the unpadded base32 text (QR alphanumeric mode; zbar mangles raw binary). The typed
code is the same text plus two check characters, in groups of five, so a typo is caught before
any key derivation runs. See docs/formats.md.
"""

from __future__ import annotations

import base64
import re
import struct
from dataclasses import dataclass

from .errors import KitError, KitReason
from .kdf import KdfParams

MAGIC = b"SR"
VERSION = 1
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ACCOUNT_ID_LEN = 10
_HEADER = struct.Struct(">2sB7sHHIBB16s")
EAK_LEN = 32
PAYLOAD_LEN = _HEADER.size + EAK_LEN
GROUP = 5
#: Groups per row where the typed code is laid out in rows (the PDF, the app's Kit screen).
ROW_GROUPS = 6
TYPED_LEN = -(-PAYLOAD_LEN * 8 // 5) + 2  # base32 characters + 2 check characters


def pack_account_id(account_id: str) -> bytes:
    if len(account_id) != ACCOUNT_ID_LEN or any(c not in ALPHABET for c in account_id):
        raise ValueError("an account id is 10 characters A-Z, 2-7")
    n = 0
    for c in account_id:
        n = n * 32 + ALPHABET.index(c)
    return n.to_bytes(7, "big")


def unpack_account_id(raw: bytes) -> str:
    n = int.from_bytes(raw, "big")
    if n >> 50:
        raise KitError(KitReason.NOT_STRONGROOM, "malformed account id")
    chars = []
    for _ in range(ACCOUNT_ID_LEN):
        chars.append(ALPHABET[n & 31])
        n >>= 5
    return "".join(reversed(chars))


@dataclass(frozen=True)
class KitPayload:
    """What the QR code carries. Public except `eak`, which opens only with the password."""

    account_id: str
    generation: int
    epoch: int
    params: KdfParams
    salt: bytes
    eak: bytes

    def __repr__(self) -> str:
        return f"KitPayload(account_id={self.account_id!r}, generation={self.generation}, epoch={self.epoch})"

    def header(self) -> bytes:
        return _HEADER.pack(
            MAGIC,
            VERSION,
            pack_account_id(self.account_id),
            self.generation,
            self.epoch,
            self.params.m_kib,
            self.params.t,
            self.params.p,
            self.salt,
        )

    def to_bytes(self) -> bytes:
        return self.header() + self.eak

    @classmethod
    def from_bytes(cls, data: bytes) -> KitPayload:
        if len(data) < 3 or data[:2] != MAGIC:
            raise KitError(KitReason.NOT_STRONGROOM)
        if data[2] != VERSION:
            raise KitError(
                KitReason.NOT_STRONGROOM,
                f"Kit format version {data[2]} is not supported by this version of Strongroom",
            )
        if len(data) != PAYLOAD_LEN:
            raise KitError(KitReason.NOT_STRONGROOM, "wrong length")
        _, _, acct, gen, epoch, m, t, p, salt = _HEADER.unpack_from(data)
        return cls(
            unpack_account_id(acct), gen, epoch, KdfParams(m, t, p), salt, data[_HEADER.size :]
        )

    def to_qr_text(self) -> str:
        return base64.b32encode(self.to_bytes()).decode().rstrip("=")

    @classmethod
    def from_qr_text(cls, text: str) -> KitPayload:
        cleaned = text.strip().upper()
        if not re.fullmatch(f"[{ALPHABET}]+", cleaned):
            raise KitError(KitReason.NOT_STRONGROOM)
        try:
            raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
        except ValueError:
            raise KitError(KitReason.NOT_STRONGROOM) from None
        return cls.from_bytes(raw)

    def to_typed_code(self) -> str:
        text = self.to_qr_text()
        text += _check_chars(text)
        return "-".join(text[i : i + GROUP] for i in range(0, len(text), GROUP))

    def typed_code_rows(self, per_row: int = ROW_GROUPS) -> list[str]:
        """The typed code in rows of `per_row` whole groups: a row never splits a group, and
        the PDF and the app show the same rows."""
        groups = self.to_typed_code().split("-")
        return ["-".join(groups[i : i + per_row]) for i in range(0, len(groups), per_row)]

    @classmethod
    def from_typed_code(cls, code: str) -> KitPayload:
        """Parse a typed code; a typo raises KitError(TYPO) before anything else runs."""
        text = normalize_typed(code)
        if len(text) < 3 or not re.fullmatch(f"[{ALPHABET}]+", text):
            raise KitError(
                KitReason.NOT_STRONGROOM, "a code contains only letters A-Z and digits 2-7"
            )
        body, check = text[:-2], text[-2:]
        expected = TYPED_LEN
        if abs(len(text) - expected) > 3:
            raise KitError(
                KitReason.NOT_STRONGROOM,
                f"a Kit code has {expected} characters, this has {len(text)}",
            )
        if len(text) != expected:
            raise KitError(
                KitReason.TYPO,
                f"a Kit code has {expected} characters, this has {len(text)}: "
                "a character is missing or doubled",
            )
        if _check_chars(body) != check:
            raise KitError(KitReason.TYPO)
        return cls.from_qr_text(body)


def normalize_typed(code: str) -> str:
    """Forgive separators, case and the look-alikes 0/O, 1/I, 8/B (base32 has no 0, 1, 8)."""
    text = re.sub(r"[\s\-_.]", "", code).upper()
    return text.translate(str.maketrans("018", "OIB"))


#: x^5 + x^2 + 1, a primitive polynomial: the field GF(32) the check character is computed in.
_GF32_POLY = 0b100101


def _times_x(v: int) -> int:
    v <<= 1
    return v ^ _GF32_POLY if v & 32 else v


def _damm32(text: str) -> str:
    """Damm check character over the quasigroup a∘b = x·a + b in GF(32).

    x ≠ 1 makes the operation totally anti-symmetric, so every single substitution and every
    adjacent transposition — the check character's own included — changes the result. Luhn mod 32,
    used before, missed the transposition of A and 7 (values 0 and 31).
    """
    interim = 0
    for ch in text:
        interim = _times_x(interim) ^ ALPHABET.index(ch)
    return ALPHABET[_times_x(interim)]  # the character that brings the interim to 0


def _check_chars(text: str) -> str:
    import hashlib  # here, not at the top: loading it cost ~3 ms of every unlock, which never needs it

    return _damm32(text) + ALPHABET[hashlib.sha256(text.encode()).digest()[0] & 31]
