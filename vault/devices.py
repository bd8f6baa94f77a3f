"""Devices: each device's own X25519 key pair, its entry in the account's device list, and the
format that wraps keys to one device's public key (docs/design.md "Devices and removal").

- The private key never sits on disk in clear: it is sealed under VK's `device-key` sub-key
  (`seal_private` / `open_private`), bound to the account and the device id, and kept in the
  store's meta table beside the key slot.
- The device list is made of *device records*: ordinary encrypted records (type `device`, id
  `device-<device id>`) that each device writes about itself and every sync method carries like
  any record. Lists, exports, imports and audits skip them (`is_device_record`).
- `wrap_to_device` / `unwrap_for_device` (ephemeral-static X25519 → HKDF → AES-256-GCM) carry
  new keys to a device when a removal rotates them (later work: the removal itself).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .crypto import Sealer, associated_data, hkdf
from .errors import FormatError, TamperError, UnsupportedVersionError
from .records import Field, Record, now
from .templates import FieldKind

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

DEVICE_TYPE = "device"
RECORD_PREFIX = "device-"
KEY_META = "device_key"
PRIVATE_VERSION = 1
WRAP_VERSION = 1
ENTRY_VERSION = "1"
KEY_LEN = 32
#: A device's own entry is written again when it syncs and its last_seen is older than this, so
#: syncing often does not make a new version each time.
SEEN_EVERY = 3600.0


def is_device_record(record_id: str) -> bool:
    """True for the ids of device records, which are not the user's records."""
    return record_id.startswith(RECORD_PREFIX)


def record_id_of(device: str) -> str:
    return RECORD_PREFIX + device


# -- the key pair ---------------------------------------------------------------------------------
def _x25519() -> type[X25519PrivateKey]:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    return X25519PrivateKey


def new_private_key() -> bytes:
    """32 random bytes: an X25519 private key (the cryptography package clamps on use)."""
    return os.urandom(KEY_LEN)


def public_key(private: bytes) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = _x25519().from_private_bytes(private).public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _private_ad(account_id: str, device: str, public: bytes) -> bytes:
    return associated_data("strongroom/device-key", account_id, device, public)


def seal_private(private: bytes, key: bytes, account_id: str, device: str) -> bytes:
    """version 1 ‖ public key (32) ‖ nonce ‖ AES-256-GCM(key, private) ‖ tag.

    `key` is VK's `device-key` sub-key; the public key rides in clear so the list entry can be
    checked against it without the private key."""
    public = public_key(private)
    body = Sealer(key).seal(private, _private_ad(account_id, device, public))
    return bytes([PRIVATE_VERSION]) + public + body


def open_private(blob: bytes, key: bytes, account_id: str, device: str) -> tuple[bytes, bytes]:
    """(private, public) from `seal_private`'s bytes; TamperError if changed or another key's."""
    if not blob:
        raise FormatError("this device's key is missing")
    if blob[0] != PRIVATE_VERSION:
        raise UnsupportedVersionError(f"device key version {blob[0]} is not supported")
    if len(blob) < 1 + KEY_LEN:
        raise FormatError("this device's key is truncated")
    public = blob[1 : 1 + KEY_LEN]
    private = Sealer(key).open(
        blob[1 + KEY_LEN :], _private_ad(account_id, device, public), "this device's key"
    )
    if len(private) != KEY_LEN or public_key(private) != public:
        raise TamperError("this device's key does not match its public key")
    return private, public


# -- keys wrapped to one device -------------------------------------------------------------------
def _ephemeral() -> bytes:
    """The sender's one-time private key; a module-level seam so golden vectors can pin it."""
    return os.urandom(KEY_LEN)


def _wrap_key(shared: bytes, eph_public: bytes, device_public: bytes) -> bytes:
    return hkdf(shared, "strongroom device-wrap v1", salt=eph_public + device_public)


def _wrap_ad(account_id: str, generation: int, epoch: int, device: str) -> bytes:
    return associated_data("strongroom/device-wrap", account_id, generation, epoch, device)


def wrap_to_device(
    plaintext: bytes,
    device_public: bytes,
    account_id: str,
    generation: int,
    epoch: int,
    device: str,
) -> bytes:
    """version 1 ‖ ephemeral public (32) ‖ nonce ‖ AES-256-GCM ‖ tag; only `device` opens it.

    Bound to the account, the generation and epoch of the keys it carries and the device id, so
    a wrap cannot be replayed to another device or presented as another epoch's keys."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

    if len(device_public) != KEY_LEN:
        raise FormatError("a device public key is 32 bytes")
    eph = _ephemeral()
    eph_public = public_key(eph)
    shared = (
        _x25519().from_private_bytes(eph).exchange(X25519PublicKey.from_public_bytes(device_public))
    )
    sealer = Sealer(_wrap_key(shared, eph_public, device_public))
    body = sealer.seal(plaintext, _wrap_ad(account_id, generation, epoch, device))
    return bytes([WRAP_VERSION]) + eph_public + body


def unwrap_for_device(
    wrapped: bytes, private: bytes, account_id: str, generation: int, epoch: int, device: str
) -> bytes:
    """The plaintext `wrap_to_device` sealed to this device; TamperError otherwise."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

    if not wrapped:
        raise FormatError("the wrapped key is empty")
    if wrapped[0] != WRAP_VERSION:
        raise UnsupportedVersionError(f"device-wrapped key version {wrapped[0]} is not supported")
    if len(wrapped) < 1 + KEY_LEN:
        raise FormatError("the wrapped key is truncated")
    eph_public = wrapped[1 : 1 + KEY_LEN]
    shared = (
        _x25519()
        .from_private_bytes(private)
        .exchange(X25519PublicKey.from_public_bytes(eph_public))
    )
    if shared == bytes(KEY_LEN):
        raise TamperError("the wrapped key's ephemeral key is invalid")
    sealer = Sealer(_wrap_key(shared, eph_public, public_key(private)))
    return sealer.open(
        wrapped[1 + KEY_LEN :],
        _wrap_ad(account_id, generation, epoch, device),
        "the key wrapped to this device",
    )


def key_bundle(ak: bytes, vk: bytes, x_auth: bytes) -> bytes:
    """What a removal wraps to each remaining device: version 1 ‖ AK (16) ‖ VK (32) ‖ x_auth (32)."""
    return b"\x01" + ak + vk + x_auth


def open_bundle(raw: bytes) -> tuple[bytes, bytes, bytes]:
    if len(raw) != 1 + 16 + 32 + 32 or raw[0] != 1:
        raise FormatError("the wrapped key bundle is malformed")
    return raw[1:17], raw[17:49], raw[49:81]


# -- the device list ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeviceEntry:
    """One device as every device of the account sees it."""

    id: str
    name: str
    method: str
    first_seen: float
    last_seen: float
    public_key: bytes

    def to_record(self) -> Record:
        text = FieldKind.TEXT
        return Record(
            record_id_of(self.id),
            DEVICE_TYPE,
            self.name,
            (
                Field("v", text, ENTRY_VERSION),
                Field("device", text, self.id),
                Field("method", text, self.method),
                Field("first_seen", text, repr(self.first_seen)),
                Field("last_seen", text, repr(self.last_seen)),
                Field("public_key", text, base64.b64encode(self.public_key).decode()),
            ),
            created=self.first_seen,
            modified=self.last_seen,
        )

    @classmethod
    def from_record(cls, record: Record) -> DeviceEntry:
        if record.type != DEVICE_TYPE or not is_device_record(record.id):
            raise FormatError("not a device record")
        if record.value("v") != ENTRY_VERSION:
            raise UnsupportedVersionError("this device record's version is not supported")
        try:
            device = str(record.value("device"))
            if record_id_of(device) != record.id:
                raise FormatError("a device record names another device")
            return cls(
                device,
                record.title,
                record.value("method") or "none",
                float(record.value("first_seen") or 0),
                float(record.value("last_seen") or 0),
                base64.b64decode(record.value("public_key") or "", validate=True),
            )
        except ValueError as exc:
            raise FormatError("a device record is malformed") from exc

    def seen(self, method: str, at: float | None = None) -> DeviceEntry:
        from dataclasses import replace

        return replace(self, method=method, last_seen=max(at or now(), self.last_seen))


def default_name() -> str:
    import platform

    return platform.node() or "this device"
