"""AEAD (AES-256-GCM), HKDF-SHA256 and canonical associated data.

Every ciphertext is bound to what it is (namespace) and where it belongs (account, record id,
version, …) through associated data, so ciphertexts cannot be swapped between uses unnoticed.
"""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import TamperError

NONCE_LEN = 12
TAG_LEN = 16
KEY_LEN = 32
#: Only for keys used exactly once (e.g. K_qr, unique per salt): see docs/formats.md.
ZERO_NONCE = bytes(NONCE_LEN)


def hkdf(
    ikm: bytes, info: str | bytes, *, salt: bytes | None = None, length: int = KEY_LEN
) -> bytes:
    """HKDF-SHA256 (RFC 5869); `info` names the purpose so sub-keys never collide."""
    raw_info = info.encode() if isinstance(info, str) else info
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=raw_info).derive(ikm)


def associated_data(namespace: str, *parts: bytes | str | int) -> bytes:
    """Canonical, unambiguous encoding: every part length-prefixed, ints as 8-byte big endian."""
    out = bytearray()
    for part in (namespace, *parts):
        if isinstance(part, int):
            raw = struct.pack(">q", part)
        elif isinstance(part, str):
            raw = part.encode("utf-8")
        else:
            raw = bytes(part)
        out += struct.pack(">I", len(raw)) + raw
    return bytes(out)


def _fresh_nonce() -> bytes:
    """96 random bits per seal; a module-level seam so golden-vector tests can pin the bytes."""
    return os.urandom(NONCE_LEN)


class Sealer:
    """AES-256-GCM under one key; holds the cipher object so bulk work avoids re-keying."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_LEN:
            raise ValueError("AES-256-GCM needs a 32-byte key")
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "Sealer(<key hidden>)"

    def seal(self, plaintext: bytes, ad: bytes) -> bytes:
        """nonce ‖ ciphertext ‖ tag, with a fresh random nonce."""
        nonce = _fresh_nonce()
        return nonce + self._aead.encrypt(nonce, plaintext, ad)

    def open(self, sealed: bytes, ad: bytes, what: str = "data") -> bytes:
        if len(sealed) < NONCE_LEN + TAG_LEN:
            raise TamperError(f"{what} is too short to be encrypted data")
        try:
            return self._aead.decrypt(sealed[:NONCE_LEN], sealed[NONCE_LEN:], ad)
        except InvalidTag:
            raise TamperError(
                f"{what} failed authentication (changed, swapped or wrong key)"
            ) from None

    def encrypt_with_nonce(self, nonce: bytes, plaintext: bytes, ad: bytes) -> bytes:
        """ciphertext ‖ tag under a nonce the caller derived (a synthetic, deterministic nonce:
        vault/removal.py; never a counter or a constant)."""
        return self._aead.encrypt(nonce, plaintext, ad)

    def seal_fixed(self, plaintext: bytes, ad: bytes) -> bytes:
        """Zero-nonce seal for single-use keys; returns ciphertext ‖ tag (no nonce stored)."""
        return self._aead.encrypt(ZERO_NONCE, plaintext, ad)

    def open_fixed(self, sealed: bytes, ad: bytes, what: str = "data") -> bytes:
        try:
            return self._aead.decrypt(ZERO_NONCE, sealed, ad)
        except InvalidTag:
            raise TamperError(
                f"{what} failed authentication (changed, swapped or wrong key)"
            ) from None


def seal(key: bytes, plaintext: bytes, ad: bytes) -> bytes:
    return Sealer(key).seal(plaintext, ad)
