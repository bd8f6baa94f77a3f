"""Envelopes: one encrypted version of one record, with the metadata merge needs.

Bytes: magic "SRE" | version u8 | header length u16 | canonical JSON header | nonce ‖ ct ‖ tag.
The header (id, version vector, hybrid-logical-clock time, writer device, deleted flag) is the
AEAD associated data together with the account id, so a ciphertext cannot move to another
record, version or account unnoticed. The plaintext is padded to a size bucket (vault/padding.py)
so its length does not tell a password's; envelopes sealed before padding still open. The sync
layers handle envelopes only.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

from . import safejson
from .crypto import Sealer, associated_data
from .errors import BoundsError, FormatError, UnsupportedVersionError
from .padding import pad, unpad
from .records import Record

MAGIC = b"SRE"
VERSION = 1
MAX_ENVELOPE = 16 * 1024 * 1024
#: Limits of the clear header, checked wherever envelope bytes are parsed (docs/formats.md): the
#: clock and every counter fit a signed 64-bit integer (SQLite INTEGER, the associated data's
#: ints); ids, devices and vectors stay small enough that merging stays cheap.
MAX_HLC = 2**63 - 1
MAX_COUNTER = 2**63 - 1
MAX_ID = 64
MAX_DEVICE = 64
MAX_VV_ENTRIES = 1024

VersionVector = Mapping[str, int]


_json_str = json.encoder.encode_basestring_ascii  # what json.dumps does for a str (ensure_ascii)


def vv_key(vv: VersionVector) -> str:
    """Canonical text of a version vector (sorted, compact): its identity in stores and sets.
    Written out for integer counters (what json.dumps prints for them, a fraction of its cost:
    an import seals 100,000 versions); anything else goes through json.dumps."""
    if len(vv) == 1:  # a record written on one device: most of them
        ((k, v),) = vv.items()
        if type(v) is int and type(k) is str:
            return f"{{{_json_str(k)}:{v}}}"
    items = sorted(vv.items())
    if all(type(v) is int and type(k) is str for k, v in items):
        return "{" + ",".join(f"{_json_str(k)}:{v}" for k, v in items) + "}"
    return json.dumps(dict(items), separators=(",", ":"))


def _header(deleted: bool, device: str, hlc: int, record_id: str, vv_text: str) -> bytes:
    """The canonical JSON header, keys sorted (del, dev, hlc, id, vv), compact (Envelope.header)."""
    return (
        f'{{"del":{int(deleted)},"dev":{_json_str(device)},"hlc":{int(hlc)},'
        f'"id":{_json_str(record_id)},"vv":{vv_text}}}'
    ).encode()


@dataclass(frozen=True)
class Envelope:
    record_id: str
    vv_text: str
    hlc: int
    device: str
    deleted: bool
    ciphertext: bytes

    @cached_property
    def vv(self) -> dict[str, int]:
        return dict(safejson.loads(self.vv_text))

    def header(self) -> bytes:
        """Canonical JSON, keys sorted (del, dev, hlc, id, vv), compact. Built from pieces: vv_text
        is already the canonical vector (vv_key), and a full json.dumps per envelope was most of
        the cost of writing a 10,000-record sync file. Golden vectors pin the bytes."""
        return _header(self.deleted, self.device, self.hlc, self.record_id, self.vv_text)

    def to_bytes(self) -> bytes:
        h = self.header()
        return MAGIC + bytes([VERSION]) + struct.pack(">H", len(h)) + h + self.ciphertext

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        if len(data) > MAX_ENVELOPE:
            raise FormatError("record envelope is too large")
        if len(data) < 6 or data[:3] != MAGIC:
            raise FormatError("not a Strongroom record envelope")
        if data[3] != VERSION:
            raise UnsupportedVersionError(
                f"record envelope version {data[3]} is not supported; update Strongroom"
            )
        (hlen,) = struct.unpack_from(">H", data, 4)
        if 6 + hlen > len(data):
            raise FormatError("record envelope is truncated")
        try:
            h = safejson.loads(data[6 : 6 + hlen])
            vv = {str(k): int(v) for k, v in h["vv"].items()}
            if not isinstance(h["id"], str) or not h["id"] or not isinstance(h["hlc"], int):
                raise ValueError
            env = cls(
                h["id"], vv_key(vv), int(h["hlc"]), str(h["dev"]), bool(h["del"]), data[6 + hlen :]
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise FormatError("record envelope header is malformed") from exc
        check_bounds(env.record_id, vv, env.hlc, env.device)
        if env.header() != data[6 : 6 + hlen]:
            raise FormatError("record envelope header is not canonical")
        return env


def check_bounds(record_id: str, vv: VersionVector, hlc: int, device: str) -> None:
    """BoundsError naming the value out of its limit (the clock, a counter, a size, a count)."""
    if not 0 <= hlc <= MAX_HLC:
        raise BoundsError(f"record envelope's clock (hlc {hlc}) is outside 0 … 2^63 − 1; refused")
    if len(record_id) > MAX_ID:
        raise BoundsError(f"record envelope's id is longer than {MAX_ID} characters; refused")
    if len(device) > MAX_DEVICE:
        raise BoundsError(
            f"record envelope's device is longer than {MAX_DEVICE} characters; refused"
        )
    if len(vv) > MAX_VV_ENTRIES:
        raise BoundsError(
            f"record envelope's version vector has {len(vv)} entries (limit {MAX_VV_ENTRIES}); refused"
        )
    for k, v in vv.items():
        if not 0 <= v <= MAX_COUNTER:
            raise BoundsError(
                f"record envelope's version counter {v} is outside 0 … 2^63 − 1; refused"
            )
        if not k or len(k) > MAX_DEVICE:
            raise BoundsError(
                "record envelope's version vector names an empty or too long writer; refused"
            )


def record_ad(account_id: str, header: bytes) -> bytes:
    return associated_data("strongroom/record", account_id, header)


def _ad_prefix(account_id: str) -> bytes:
    """`record_ad` less its last part: the same for every envelope of an account."""
    return associated_data("strongroom/record", account_id)


class RecordCipher:
    """Seals and opens records for one account with the records sub-key of VK."""

    def __init__(self, account_id: str, record_key: bytes) -> None:
        self.account_id = account_id
        self._sealer = Sealer(record_key)
        self._ad = _ad_prefix(account_id)

    def _record_ad(self, header: bytes) -> bytes:
        """= record_ad(self.account_id, header), with the account's part encoded once."""
        return self._ad + struct.pack(">I", len(header)) + header

    def __repr__(self) -> str:
        return f"RecordCipher({self.account_id!r}, <key hidden>)"

    def seal(
        self, record: Record | None, record_id: str, vv: VersionVector, hlc: int, device: str
    ) -> Envelope:
        """Encrypt a record version, padded (form 2); `None` makes a tombstone. BoundsError when a
        value is outside what every reader accepts (it would be refused everywhere)."""
        check_bounds(record_id, vv, hlc, device)
        vv_text, deleted = vv_key(vv), record is None
        header = _header(deleted, device, hlc, record_id, vv_text)
        plaintext = pad(record.to_json() if record is not None else b"{}")
        if len(plaintext) + 256 + len(header) > MAX_ENVELOPE:
            raise BoundsError(
                f"record {record_id} is larger than {MAX_ENVELOPE // (1024 * 1024)} MiB "
                "encrypted; other devices could not take it, so it is not saved"
            )
        sealed = self._sealer.seal(plaintext, self._record_ad(header))
        return Envelope(record_id, vv_text, hlc, device, deleted, sealed)

    def row_sealer(
        self, vv: VersionVector, hlc: int, device: str
    ) -> Callable[[Record], tuple[str, str, int, str, int, bytes]]:
        """`seal(record, record.id, vv, hlc, device)` for many records sharing one vector, clock
        and device (an import's first versions), as the store's row (record_id, vv, hlc, device,
        deleted, ciphertext): the bounds checked and the header's fixed parts made once, no
        Envelope object. 100,000 imported records: a third of sealing's time."""
        check_bounds("", vv, hlc, device)
        vv_text = vv_key(vv)
        # = _header(False, device, hlc, record_id, vv_text) around each record's id
        head = f'{{"del":0,"dev":{_json_str(device)},"hlc":{int(hlc)},"id":'.encode()
        tail = f',"vv":{vv_text}}}'.encode()
        ad_prefix, seal = self._ad, self._sealer.seal

        def sealed(record: Record) -> tuple[str, str, int, str, int, bytes]:
            rid = record.id
            if len(rid) > MAX_ID:
                raise BoundsError(
                    f"record envelope's id is longer than {MAX_ID} characters; refused"
                )
            header = head + _json_str(rid).encode() + tail
            plaintext = pad(record.to_json())
            if len(plaintext) + 256 + len(header) > MAX_ENVELOPE:
                raise BoundsError(
                    f"record {rid} is larger than {MAX_ENVELOPE // (1024 * 1024)} MiB "
                    "encrypted; other devices could not take it, so it is not saved"
                )
            ad = ad_prefix + struct.pack(">I", len(header)) + header
            return rid, vv_text, hlc, device, 0, seal(plaintext, ad)

        return sealed

    def authenticate(self, env: Envelope) -> None:
        """TamperError unless the envelope's AEAD opens under this account's record key: what every
        incoming version must pass before it may supersede anything. (A body form this build does
        not know still passes: a newer device wrote it, and it says "update Strongroom" when shown.)"""
        self._sealer.open(env.ciphertext, self._record_ad(env.header()), "record")

    def body(self, env: Envelope) -> bytes:
        """The record's JSON (either body form), unparsed; TamperError/FormatError on bad data."""
        return unpad(self._sealer.open(env.ciphertext, self._record_ad(env.header()), "record"))

    def open(self, env: Envelope) -> Record | None:
        """Decrypt either body form; None for a tombstone. Raises TamperError/FormatError on bad
        data."""
        plaintext = self.body(env)
        if env.deleted:
            return None
        record = Record.from_json(plaintext)
        if record.id != env.record_id:
            raise FormatError("record id inside the envelope does not match its header")
        return record


def pack_envelopes(envs: Iterator[Envelope] | list[Envelope]) -> bytes:
    """u32-length-prefixed concatenation, the body of backups and sync files."""
    out = bytearray()
    for env in envs:
        raw = env.to_bytes()
        out += struct.pack(">I", len(raw)) + raw
    return bytes(out)


def split_envelopes(data: bytes) -> list[bytes]:
    """The envelopes' bytes of a packed list, unparsed (FormatError when the framing is bad)."""
    raws, pos = [], 0
    while pos < len(data):
        if pos + 4 > len(data):
            raise FormatError("envelope list is truncated")
        (n,) = struct.unpack_from(">I", data, pos)
        pos += 4
        if n > MAX_ENVELOPE or pos + n > len(data):
            raise FormatError("envelope list is truncated or corrupt")
        raws.append(data[pos : pos + n])
        pos += n
    return raws


def unpack_envelopes(data: bytes) -> list[Envelope]:
    return [Envelope.from_bytes(raw) for raw in split_envelopes(data)]
