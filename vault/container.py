"""Sealed containers: a public header bound as associated data, and an encrypted body.

Used by backups (`vault/backup.py`) and the folder sync file (`sync/mssb.py`):

    magic (4 bytes) | version u8 | header length u32 | canonical JSON header | nonce ‖ body ‖ tag

The header carries what a reader needs before decrypting (account id, generation, epoch, the
key slot: Kit payload + wrapped VK) and nothing secret; the whole prefix is the AEAD's
associated data, so editing any header byte (e.g. lowering the KDF cost) is detected.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

from . import safejson
from .crypto import Sealer
from .errors import FormatError, UnsupportedVersionError

MAX_HEADER = 64 * 1024


@dataclass(frozen=True)
class Container:
    magic: bytes
    version: int
    header: dict[str, Any]
    prefix: bytes  # magic ‖ version ‖ length ‖ header bytes: the associated data
    sealed_body: bytes


def encode_header(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def seal_container(
    magic: bytes, version: int, header: dict[str, Any], body: bytes, key: bytes
) -> bytes:
    hbytes = encode_header(header)
    prefix = magic + bytes([version]) + struct.pack(">I", len(hbytes)) + hbytes
    return prefix + Sealer(key).seal(body, prefix)


def parse_container(data: bytes, magic: bytes, version: int, what: str) -> Container:
    """Split and check the public part; no key needed. Raises FormatError with a clear reason."""
    if len(data) < len(magic) + 5 or not data.startswith(magic):
        raise FormatError(f"this is not a Strongroom {what}")
    ver = data[len(magic)]
    if ver != version:
        raise UnsupportedVersionError(
            f"{what} format version {ver} is not supported by this version of Strongroom"
        )
    (hlen,) = struct.unpack_from(">I", data, len(magic) + 1)
    start = len(magic) + 5
    if hlen > MAX_HEADER or start + hlen > len(data):
        raise FormatError(f"{what} is truncated or corrupt")
    raw = data[start : start + hlen]
    try:
        header = safejson.loads(raw)
        if not isinstance(header, dict):
            raise ValueError
    except ValueError as exc:
        raise FormatError(f"{what} header is corrupt") from exc
    if encode_header(header) != raw:
        raise FormatError(f"{what} header is not canonical (edited?)")
    return Container(magic, ver, header, data[: start + hlen], data[start + hlen :])


def open_container(c: Container, key: bytes, what: str) -> bytes:
    """Decrypt the body; TamperError if any byte of header or body changed."""
    return Sealer(key).open(c.sealed_body, c.prefix, what)
