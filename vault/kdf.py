"""Argon2id with pinned production parameters, a floor and a ceiling.

Parameters travel with every wrapped key. Readers call `check_params` before any KDF runs so
a tampered header can neither downgrade the cost nor make us burn a gigabyte and minutes.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass

from _argon2_cffi_bindings import (  # the C library alone: argon2-cffi's wrapper costs ~3 ms of import
    ffi,
    lib,
)

from .errors import KdfParamsError

#: Environment switch for the cheap test profile; nothing else enables it.
TEST_SWITCH = "STRONGROOM_INSECURE_TEST_KDF"

FLOOR_M_KIB = 19 * 1024
FLOOR_T = 2
CEIL_M_KIB = 1024 * 1024
CEIL_T = 10
CEIL_P = 16
SALT_LEN = 16
KEY_LEN = 32
_VERSION_1_3 = 0x13


@dataclass(frozen=True)
class KdfParams:
    """Argon2id v1.3 cost: memory in KiB, passes, lanes."""

    m_kib: int
    t: int
    p: int


#: RFC 9106's second recommended option (64 MiB, t=3, p=4).
PRODUCTION = KdfParams(m_kib=64 * 1024, t=3, p=4)
#: Only for tests, only with the explicit switch (see `insecure_test_kdf_enabled`).
TEST_PROFILE = KdfParams(m_kib=256, t=1, p=1)


def insecure_test_kdf_enabled() -> bool:
    """True only when the test switch is set to exactly "1"."""
    return os.environ.get(TEST_SWITCH) == "1"


def default_params() -> KdfParams:
    """Parameters for new keys: production, unless the explicit test switch is on."""
    return TEST_PROFILE if insecure_test_kdf_enabled() else PRODUCTION


def check_params(params: KdfParams) -> None:
    """Refuse parameters below the OWASP floor or above our ceiling, before any KDF runs."""
    if insecure_test_kdf_enabled() and params == TEST_PROFILE:
        return
    if params.m_kib < FLOOR_M_KIB or params.t < FLOOR_T or params.p < 1:
        raise KdfParamsError(
            f"refusing key-derivation cost below the minimum (m={params.m_kib} KiB, t={params.t}, "
            f"p={params.p}; minimum m={FLOOR_M_KIB} KiB, t={FLOOR_T}): the file may have been tampered with"
        )
    if params.m_kib > CEIL_M_KIB or params.t > CEIL_T or params.p > CEIL_P:
        raise KdfParamsError(
            f"refusing key-derivation cost above the maximum (m={params.m_kib} KiB, t={params.t}, "
            f"p={params.p}; maximum m={CEIL_M_KIB} KiB, t={CEIL_T}, p={CEIL_P})"
        )
    if params.m_kib < 8 * params.p:
        raise KdfParamsError(
            "invalid key-derivation parameters: memory must be at least 8 KiB per lane"
        )


def normalize_password(password: str) -> bytes:
    """NFKD-normalise so the same password typed on any keyboard derives the same key."""
    return unicodedata.normalize("NFKD", password).encode("utf-8")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def argon2id(secret: bytes, salt: bytes, params: KdfParams, *, length: int = KEY_LEN) -> bytes:
    """Raw Argon2id v1.3 after the parameter check."""
    check_params(params)
    if len(salt) != SALT_LEN:
        raise KdfParamsError(f"salt must be {SALT_LEN} bytes")
    out = ffi.new("uint8_t[]", length)
    _check(
        lib.argon2_hash(
            params.t,
            params.m_kib,
            params.p,
            ffi.from_buffer(secret),
            len(secret),
            ffi.from_buffer(salt),
            len(salt),
            out,
            length,
            ffi.NULL,
            0,
            lib.Argon2_id,
            _VERSION_1_3,
        )
    )
    return bytes(ffi.buffer(out, length))


def _check(rc: int) -> None:
    """The C library's return code: anything but ARGON2_OK is an error it names."""
    if rc != lib.ARGON2_OK:
        raise KdfParamsError(
            f"Argon2id failed: {ffi.string(lib.argon2_error_message(rc)).decode()}"
        )


def argon2id_full(
    password: bytes, salt: bytes, t: int, m_kib: int, p: int, length: int, secret: bytes, ad: bytes
) -> bytes:
    """Argon2id with the optional secret and associated data of RFC 9106 (for known-answer tests).

    No parameter check: this exists so the RFC's own (tiny) vectors run through the library.
    """
    out = ffi.new("uint8_t[]", length)
    keep = [
        ffi.new("uint8_t[]", password),
        ffi.new("uint8_t[]", salt),
        ffi.new("uint8_t[]", secret or b"\0"),
        ffi.new("uint8_t[]", ad or b"\0"),
    ]
    ctx = ffi.new(
        "argon2_context *",
        {
            "out": out,
            "outlen": length,
            "pwd": keep[0],
            "pwdlen": len(password),
            "salt": keep[1],
            "saltlen": len(salt),
            "secret": keep[2] if secret else ffi.NULL,
            "secretlen": len(secret),
            "ad": keep[3] if ad else ffi.NULL,
            "adlen": len(ad),
            "t_cost": t,
            "m_cost": m_kib,
            "lanes": p,
            "threads": p,
            "version": _VERSION_1_3,
            "allocate_cbk": ffi.NULL,
            "free_cbk": ffi.NULL,
            "flags": lib.ARGON2_DEFAULT_FLAGS,
        },
    )
    _check(lib.argon2_ctx(ctx, lib.Argon2_id))
    return bytes(ffi.buffer(out, length))


def derive_password_key(password: str, salt: bytes, params: KdfParams) -> bytes:
    """K_pw = Argon2id(NFKD(P), salt, params): the one slow step of every unlock."""
    return argon2id(normalize_password(password), salt, params)
