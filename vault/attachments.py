"""Attachments: the metadata a record carries and the `SRAT` v1 blob that holds a file's bytes.

The metadata (name, size, content address, wrapped file key) rides inside the record, so it is
never in clear and syncs as records do. The bytes are encrypted under a key of their own in
chunks, streamed, so a large file never sits whole in memory; each chunk's index and a final flag
are in its associated data, so a reordered, dropped or truncated chunk is refused. Layout:
docs/formats.md ("Attachment blob").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .crypto import KEY_LEN, TAG_LEN, Sealer, associated_data
from .errors import FormatError, InvalidInputError, TamperError, UnsupportedVersionError
from .padding import MARKER, bucket

MAGIC = b"SRAT"
VERSION = 1
#: 1 MiB chunks: one chunk in memory at a time, and one tag per MiB (0.0015 % overhead).
CHUNK_EXP = 20
MIN_CHUNK_EXP, MAX_CHUNK_EXP = 8, 24
HEADER_LEN = 6
ENTRY_VERSION = 1
MAX_NAME = 255
_HEX32 = re.compile(r"[0-9a-f]{32}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class Writer(Protocol):
    def write(self, data: bytes | memoryview, /) -> Any: ...


@dataclass(frozen=True)
class Attachment:
    """One file of a record: what the record knows of it (the bytes are in blob `blob`)."""

    id: str
    name: str
    size: int
    added: float
    blob: str
    key: str

    def __repr__(self) -> str:
        return f"Attachment(id={self.id!r}, size={self.size})"

    def to_obj(self) -> dict[str, Any]:
        return {
            "v": ENTRY_VERSION,
            "id": self.id,
            "name": self.name,
            "size": self.size,
            "added": self.added,
            "blob": self.blob,
            "key": self.key,
        }

    @classmethod
    def from_obj(cls, o: dict[str, Any]) -> Attachment:
        if o.get("v") != ENTRY_VERSION:
            raise UnsupportedVersionError(
                f"attachment entry version {o.get('v')} is not supported; update Strongroom"
            )
        att = cls(
            str(o["id"]),
            str(o["name"]),
            int(o["size"]),
            float(o["added"]),
            str(o["blob"]),
            str(o["key"]),
        )
        if not (_HEX32.fullmatch(att.id) and _HEX64.fullmatch(att.blob)) or att.size < 0:
            raise FormatError("an attachment entry is malformed")
        return att


def check_name(name: str) -> str:
    """A file name as stored: no folder part, no NUL, 1-255 characters."""
    if not name or len(name) > MAX_NAME or "/" in name or "\0" in name or name in (".", ".."):
        raise InvalidInputError(f"{name!r} is not a usable attachment name")
    return name


def new_attachment_id() -> str:
    return os.urandom(16).hex()


# -- file keys -------------------------------------------------------------------------------
#: the sub-key of VK that wraps file keys
SUBKEY = "attachments"


def key_ad(account_id: str, attachment_id: str) -> bytes:
    return associated_data("strongroom/attachment-key", account_id, attachment_id)


def wrap_key(k_att: bytes, account_id: str, attachment_id: str, file_key: bytes) -> str:
    """The file key sealed under VK's `attachments` sub-key, as base64 text for the record."""
    sealed = Sealer(k_att).seal(file_key, key_ad(account_id, attachment_id))
    return base64.b64encode(sealed).decode()


def unwrap_key(k_att: bytes, account_id: str, att: Attachment) -> bytes:
    try:
        sealed = base64.b64decode(att.key, validate=True)
    except (binascii.Error, ValueError):
        raise FormatError(f"attachment {att.name!r}: its key is malformed") from None
    key = Sealer(k_att).open(sealed, key_ad(account_id, att.id), f"attachment {att.name!r} key")
    if len(key) != KEY_LEN:
        raise FormatError(f"attachment {att.name!r}: its key is malformed")
    return key


# -- the blob ----------------------------------------------------------------------------------
def header(exp: int = CHUNK_EXP) -> bytes:
    return MAGIC + bytes([VERSION, exp])


def padded_size(size: int) -> int:
    """The plaintext stream's length: the file, the 0x80 marker, zeros up to a size bucket."""
    return bucket(size + 1)


def blob_size(size: int, exp: int = CHUNK_EXP) -> int:
    p = padded_size(size)
    return HEADER_LEN + p + TAG_LEN * -(-p // (1 << exp))


def _nonce(i: int) -> bytes:
    return i.to_bytes(12, "big")


def _chunk_ad(account_id: str, attachment_id: str, head: bytes, i: int, final: bool) -> bytes:
    return associated_data(
        "strongroom/attachment-chunk", account_id, attachment_id, head, i, int(final)
    )


def encrypt(
    src: BinaryIO,
    dst: Writer,
    size: int,
    file_key: bytes,
    account_id: str,
    attachment_id: str,
    exp: int = CHUNK_EXP,
) -> str:
    """Write the blob of the `size` bytes read from `src` into `dst`, one chunk at a time; returns
    its address (`address_of`). `dst` is handed each sealed chunk as a view of one reused buffer
    and must use it before returning (a file's write does): two buffers for the whole file instead
    of fresh megabytes per chunk, which the allocator maps and the kernel zeroes page by page.

    InvalidInputError when `src` does not hold exactly `size` bytes (the file changed meanwhile).
    """
    aead, head = AESGCM(file_key), header(exp)
    address = hashlib.sha256(head)
    chunk, total = 1 << exp, padded_size(size)
    count = -(-total // chunk)
    plain, sealed = bytearray(min(chunk, total)), bytearray(min(chunk, total) + TAG_LEN)
    dst.write(head)
    for i in range(count):
        start = i * chunk
        end = min(start + chunk, total)
        real = max(0, min(end, size) - start)
        if _read_into(src, memoryview(plain)[:real]) < real:
            raise InvalidInputError("the file got shorter while it was being read")
        if start <= size < end:
            plain[real] = MARKER
            plain[real + 1 : end - start] = bytes(end - start - real - 1)
        elif real < end - start:
            plain[: end - start] = bytes(end - start)
        ad = _chunk_ad(account_id, attachment_id, head, i, i == count - 1)
        out = memoryview(sealed)[: end - start + TAG_LEN]
        aead.encrypt_into(_nonce(i), memoryview(plain)[: end - start], ad, out)
        address.update(out[-TAG_LEN:])
        dst.write(out)
    if src.read(1):
        raise InvalidInputError("the file got longer while it was being read")
    return address.hexdigest()


def _read_into(src: BinaryIO, view: memoryview) -> int:
    """Fill `view` from `src` (short reads continued); how many bytes came before the end."""
    got = 0
    while got < len(view):
        n = src.readinto(view[got:])  # type: ignore[attr-defined]
        if not n:
            break
        got += n
    return got


def decrypt(
    src: BinaryIO,
    att: Attachment,
    file_key: bytes,
    account_id: str,
    out: Callable[[bytes], Any],
) -> None:
    """Open the blob of `att` from `src`, passing the file's bytes to `out` one chunk at a time.

    TamperError at the first chunk that fails (changed, reordered, truncated, extended)."""
    what = f"attachment {att.name!r}"
    head = src.read(HEADER_LEN)
    if len(head) < HEADER_LEN or head[:4] != MAGIC:
        raise TamperError(f"{what} is not a Strongroom attachment blob")
    if head[4] != VERSION:
        raise UnsupportedVersionError(f"{what}: blob version {head[4]} is not supported")
    exp = head[5]
    if not MIN_CHUNK_EXP <= exp <= MAX_CHUNK_EXP:
        raise TamperError(f"{what}: chunk size 2^{exp} is out of range")
    aead, chunk, total = AESGCM(file_key), 1 << exp, padded_size(att.size)
    count = -(-total // chunk)
    for i in range(count):
        start = i * chunk
        end = min(start + chunk, total)
        sealed = _read_exactly(src, end - start + TAG_LEN)
        if len(sealed) < end - start + TAG_LEN:
            raise TamperError(f"{what} is truncated (chunk {i} of {count})")
        ad = _chunk_ad(account_id, att.id, head, i, i == count - 1)
        try:
            data = aead.decrypt(_nonce(i), sealed, ad)
        except InvalidTag:
            raise TamperError(f"{what} failed authentication at chunk {i} (changed)") from None
        real = max(0, min(end, att.size) - start)
        pad = data[real:]
        if start <= att.size < end:
            if pad[:1] != bytes([MARKER]):
                raise TamperError(f"{what}: its padding is malformed")
            pad = pad[1:]
        if pad.count(0) != len(pad):
            raise TamperError(f"{what}: its padding is malformed")
        if real:
            out(data[:real])
    if src.read(1):
        raise TamperError(f"{what} has bytes after its last chunk")


def _read_exactly(src: BinaryIO, n: int) -> bytes:
    data = src.read(n)
    while len(data) < n:
        more = src.read(n - len(data))
        if not more:
            break
        data += more
    return data


def address_of(src: BinaryIO, start: int = 0, length: int | None = None) -> str:
    """A blob's name: lower-case hex SHA-256 of its header and every chunk's tag, in order.

    Read without the key and without reading the chunks (16 bytes per MiB), yet binding: the tags
    authenticate every ciphertext byte under the file key, so another blob under one name needs a
    GCM forgery. A received blob is also opened in full before it is kept (`check`)."""
    if length is None:
        length = src.seek(0, 2) - start
    src.seek(start)
    head = src.read(HEADER_LEN)
    if len(head) < HEADER_LEN or head[:4] != MAGIC or head[4] != VERSION:
        raise TamperError("not a Strongroom attachment blob (version 1)")
    if not MIN_CHUNK_EXP <= head[5] <= MAX_CHUNK_EXP:
        raise TamperError("an attachment blob's chunk size is out of range")
    step = (1 << head[5]) + TAG_LEN
    h = hashlib.sha256(head)
    at = HEADER_LEN
    while at < length:
        end = min(at + step, length)
        if end - at <= TAG_LEN:
            raise TamperError("an attachment blob ends inside a chunk's tag")
        src.seek(start + end - TAG_LEN)
        h.update(src.read(TAG_LEN))
        at = end
    src.seek(start)
    return h.hexdigest()


def check(src: BinaryIO, att: Attachment, file_key: bytes, account_id: str) -> None:
    """The blob of `att` opens in full (every chunk, the padding, the length) and carries its
    name: TamperError otherwise. Nothing of the plaintext is kept."""
    if address_of(src) != att.blob:
        raise TamperError(f"attachment {att.name!r}: its blob does not match its record")
    decrypt(src, att, file_key, account_id, lambda _: None)
    src.seek(0)


class Addresser:
    """`address_of` for a blob that arrives in pieces, in order, of known total `length` (the
    account server checks an upload's parts with it, never holding the blob whole)."""

    def __init__(self, length: int) -> None:
        self._length = length
        self._pos = 0
        self._head = b""
        self._hash: Any = None
        self._step = 0
        self._tag_start = 0  # where the current chunk's tag begins

    def update(self, data: bytes) -> None:
        view = memoryview(data)
        if self._hash is None:
            need = HEADER_LEN - len(self._head)
            self._head += bytes(view[:need])
            view = view[need:]
            self._pos += min(need, len(data))
            if len(self._head) < HEADER_LEN:
                return
            head = self._head
            if (
                head[:4] != MAGIC
                or head[4] != VERSION
                or not (MIN_CHUNK_EXP <= head[5] <= MAX_CHUNK_EXP)
            ):
                raise TamperError("not a Strongroom attachment blob (version 1)")
            self._hash = hashlib.sha256(head)
            self._step = (1 << head[5]) + TAG_LEN
            self._next_chunk(HEADER_LEN)
        while view:
            end = self._tag_start + TAG_LEN
            if self._pos < self._tag_start:
                skip = min(len(view), self._tag_start - self._pos)
                view, self._pos = view[skip:], self._pos + skip
                continue
            take = min(len(view), end - self._pos)
            self._hash.update(view[:take])
            view, self._pos = view[take:], self._pos + take
            if self._pos == end:
                self._next_chunk(end)

    def _next_chunk(self, start: int) -> None:
        end = min(start + self._step, self._length)
        if start < self._length and end - start <= TAG_LEN:
            raise TamperError("an attachment blob ends inside a chunk's tag")
        self._tag_start = end - TAG_LEN if start < self._length else self._length + 1

    def hexdigest(self) -> str:
        if self._hash is None or self._pos != self._length:
            raise TamperError("an attachment blob is truncated")
        return str(self._hash.hexdigest())
