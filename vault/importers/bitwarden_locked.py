"""Password-protected Bitwarden JSON exports, opened with their export password.

Shape: {"encrypted": true, "passwordProtected": true, "salt": "<text>", "kdfType": 0 | 1,
"kdfIterations": n, "kdfMemory": MiB | null, "kdfParallelism": p | null,
"encKeyValidation_DO_NOT_EDIT": "2.iv|ct|mac", "data": "2.iv|ct|mac"}.

The key: PBKDF2-SHA256(password, salt's UTF-8 bytes, iterations) for kdfType 0, or
Argon2id(password, SHA-256(salt's UTF-8 bytes), t = iterations, m = kdfMemory MiB,
p = kdfParallelism) for kdfType 1, 32 bytes; then HKDF-Expand-SHA256 with info "enc" and "mac"
give the AES-256 key and the HMAC-SHA256 key. A cipher string "2.iv|ct|mac" is AES-256-CBC
(PKCS#7) with HMAC-SHA256 over iv‖ct. The validation string's MAC says whether the password is
right before anything else is decrypted; the data's MAC is checked too, then it is the plain
export's JSON document.

An "encrypted": true export without "passwordProtected" is encrypted with the Bitwarden
account's own key ("account restricted"), which only Bitwarden can open: refused, saying which
export to make instead.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from ..errors import FileSecretNeededError, FormatError, WrongFileSecretError
from .secret import current

WHAT = "password-protected Bitwarden export"
#: Bounds on the KDF cost a file may ask for (Bitwarden's own range, with room): above them a
#: damaged or hostile file would make us compute for minutes or allocate gigabytes.
PBKDF2_ITERATIONS = (5_000, 10_000_000)
ARGON2_ITERATIONS = (1, 20)
ARGON2_MEMORY_MIB = (15, 1024)
ARGON2_PARALLELISM = (1, 16)


def is_locked(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("encrypted") is True


def unlock(doc: dict[str, Any]) -> Any:
    """The plain export document inside a locked one, decrypted with `secret.current()`."""
    if doc.get("passwordProtected") is not True:
        raise FormatError(
            "this Bitwarden export is encrypted with your Bitwarden account's key ('account "
            "restricted'), which only Bitwarden can open; export again choosing the .json "
            "format, or '.json (Encrypted)' with 'Password protected' and a password you choose"
        )
    check, data = (
        _cipher(doc.get("encKeyValidation_DO_NOT_EDIT"), "encKeyValidation_DO_NOT_EDIT"),
        _cipher(doc.get("data"), "data"),
    )
    kdf = _kdf(doc)  # the file is checked whole before a password is asked for
    password = current().password
    if password is None:
        raise FileSecretNeededError("this Bitwarden export is protected with an export password")
    keys = _keys(kdf, password)
    try:
        _decrypt(check, keys)
    except _BadMac:
        raise WrongFileSecretError(
            "the password given does not open this Bitwarden export (it is the password chosen "
            "when exporting, not necessarily your Bitwarden master password)"
        ) from None
    try:
        plain = _decrypt(data, keys)
    except _BadMac:
        raise FormatError(
            f"this {WHAT} was changed after it was written: its data fails its check"
        ) from None
    except ValueError:
        raise FormatError(f"this {WHAT}'s data does not decrypt to padded data") from None
    try:
        return json.loads(plain.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise FormatError(f"this {WHAT} decrypts to something that is not JSON") from None


class _BadMac(Exception):
    pass


def _int(doc: dict[str, Any], key: str, bounds: tuple[int, int]) -> int:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FormatError(f"this {WHAT} has no usable {key!r}")
    if not bounds[0] <= value <= bounds[1]:
        raise FormatError(
            f"this {WHAT} asks for {key} = {value}, outside {bounds[0]:,}–{bounds[1]:,}: "
            "refused (a damaged file, or one made to keep the computer busy)"
        )
    return value


@dataclass(frozen=True)
class _Kdf:
    """The file's key-derivation settings, checked: kind 0 (PBKDF2) or 1 (Argon2id)."""

    kind: int
    salt: bytes
    iterations: int
    memory_mib: int = 0
    parallelism: int = 0


def _kdf(doc: dict[str, Any]) -> _Kdf:
    salt = doc.get("salt")
    if not isinstance(salt, str) or not salt:
        raise FormatError(f"this {WHAT} has no salt")
    kind = doc.get("kdfType")
    if kind == 0 and not isinstance(kind, bool):
        return _Kdf(0, salt.encode("utf-8"), _int(doc, "kdfIterations", PBKDF2_ITERATIONS))
    if kind == 1 and not isinstance(kind, bool):
        return _Kdf(
            1,
            salt.encode("utf-8"),
            _int(doc, "kdfIterations", ARGON2_ITERATIONS),
            _int(doc, "kdfMemory", ARGON2_MEMORY_MIB),
            _int(doc, "kdfParallelism", ARGON2_PARALLELISM),
        )
    shown = repr(kind)[:20]
    raise FormatError(
        f"this {WHAT} uses key derivation {shown}; only PBKDF2 (0) and Argon2id (1) exist"
    )


def _keys(kdf: _Kdf, password: str) -> tuple[bytes, bytes]:
    """(AES key, HMAC key) from the export password and the file's KDF settings."""
    secret = password.encode("utf-8")
    if kdf.kind == 0:
        key = hashlib.pbkdf2_hmac("sha256", secret, kdf.salt, kdf.iterations, 32)
    else:
        from ..kdf import argon2id_full

        key = argon2id_full(
            secret,
            hashlib.sha256(kdf.salt).digest(),
            kdf.iterations,
            kdf.memory_mib * 1024,
            kdf.parallelism,
            32,
            b"",
            b"",
        )
    return _expand(key, b"enc"), _expand(key, b"mac")


def _expand(prk: bytes, info: bytes) -> bytes:
    """HKDF-Expand (RFC 5869) with SHA-256 to 32 bytes: one block."""
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def _cipher(value: Any, name: str) -> tuple[bytes, bytes, bytes]:
    """(iv, ciphertext, mac) of a '2.iv|ct|mac' cipher string."""
    if not isinstance(value, str) or not value.startswith("2."):
        raise FormatError(f"this {WHAT}'s {name} is not an AES-CBC-HMAC cipher string (2.…)")
    parts = value[2:].split("|")
    try:
        iv, ct, mac = (base64.b64decode(p, validate=True) for p in parts)
    except (ValueError, binascii.Error):
        raise FormatError(f"this {WHAT}'s {name} is not a well-formed cipher string") from None
    if len(iv) != 16 or not ct or len(ct) % 16 or len(mac) != 32:
        raise FormatError(f"this {WHAT}'s {name} has the wrong sizes for AES-256-CBC")
    return iv, ct, mac


def _decrypt(cipher: tuple[bytes, bytes, bytes], keys: tuple[bytes, bytes]) -> bytes:
    """AES-256-CBC after the MAC check (_BadMac when it fails; ValueError: bad padding)."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    iv, ct, mac = cipher
    enc_key, mac_key = keys
    if not hmac.compare_digest(hmac.new(mac_key, iv + ct, hashlib.sha256).digest(), mac):
        raise _BadMac
    decryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ct) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()
