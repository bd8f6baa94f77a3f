"""Devices: each device's own X25519 key pair, its entry in the account's device list, and the
format that wraps keys to one device's public key (docs/design.md "Devices and removal").

- The private key never sits on disk in clear: it is sealed under VK's `device-key` sub-key
  (`seal_private` / `open_private`), bound to the account and the device id, and kept in the
  store's meta table beside the key slot.
- The device list is made of *device records*: ordinary encrypted records (type `device`, id
  `device-<device id>`) that each device writes about itself and every sync method carries like
  any record. Lists, exports, imports and audits skip them (`is_device_record`).
- `wrap_to_device` / `unwrap_for_device` (ephemeral-static X25519 → HKDF → AES-256-GCM) carry
  new keys to a device when a removal rotates them (vault/removal.py).
- `ensure_key`, `write_entry`, `touch`, `entries`: this device's key and entry in a `Vault`.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

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


def key_bundle(ak: bytes, vk: bytes, x_auth: bytes, kit: bytes = b"") -> bytes:
    """What a removal wraps to each remaining device.

    v1: 0x01 ‖ AK (16) ‖ VK (32) ‖ x_auth (32). v2 (what a removal writes): the same, then the new
    Kit payload (68 bytes): its Encrypted Account Key is what lets the device unlock with the
    password later, and it must reach only the remaining devices (with the password, it opens AK′).
    """
    if not kit:
        return b"\x01" + ak + vk + x_auth
    if len(kit) != KIT_LEN:
        raise FormatError("a Kit payload is 68 bytes")
    return b"\x02" + ak + vk + x_auth + kit


KIT_LEN = 68


def open_bundle(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """(AK, VK, x_auth) of a key bundle of either version."""
    ak, vk, x_auth, _ = open_bundle_kit(raw)
    return ak, vk, x_auth


def open_bundle_kit(raw: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """(AK, VK, x_auth, Kit payload or b"" for v1)."""
    if raw[:1] == b"\x02" and len(raw) == 1 + 80 + KIT_LEN:
        return raw[1:17], raw[17:49], raw[49:81], raw[81:]
    if len(raw) != 1 + 16 + 32 + 32 or raw[0] != 1:
        if raw[:1] not in (b"\x01", b"\x02"):
            raise UnsupportedVersionError(f"key bundle version {raw[:1].hex()} is not supported")
        raise FormatError("the wrapped key bundle is malformed")
    return raw[1:17], raw[17:49], raw[49:81], b""


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
        return replace(self, method=method, last_seen=max(at or now(), self.last_seen))


def default_name() -> str:
    import platform

    return platform.node() or "this device"


# -- this device in a Vault -----------------------------------------------------------------------
def ensure_key(vault: Any) -> bytes:
    """This device's public key, making the key pair first when the store has none (a sign-in,
    or a home from before device keys). The vault must be unlocked."""
    keys = vault.keys
    sub = keys.subkey("device-key")
    raw = vault.store.get_meta(KEY_META)
    if raw is not None:
        return open_private(raw, sub, keys.account_id, vault.device)[1]
    with vault.store.transaction():
        raw = vault.store.get_meta(KEY_META)  # another process made it meanwhile
        if raw is not None:
            return open_private(raw, sub, keys.account_id, vault.device)[1]
        private = new_private_key()
        vault.store.set_meta(KEY_META, seal_private(private, sub, keys.account_id, vault.device))
        return public_key(private)


def private_key(vault: Any) -> bytes:
    """This device's private key (unsealed with VK's device-key sub-key; vault unlocked)."""
    ensure_key(vault)
    keys = vault.keys
    raw = vault.store.get_meta(KEY_META)
    return open_private(raw or b"", keys.subkey("device-key"), keys.account_id, vault.device)[0]


def reseal_key(vault: Any, private: bytes, keys: Any) -> None:
    """After a key change: this device's private key sealed under the new VK (`keys`)."""
    vault.store.set_meta(
        KEY_META, seal_private(private, keys.subkey("device-key"), keys.account_id, vault.device)
    )


def entry_of(vault: Any, device: str) -> DeviceEntry | None:
    """A device's entry as this device holds it (None: none, removed, or unreadable)."""
    versions = vault.store.versions(record_id_of(device))
    return _entry(vault, versions)


def _entry(vault: Any, versions: list[Any]) -> DeviceEntry | None:
    from .merge import state

    if not versions:
        return None
    try:
        rec = vault.cipher.open(state(versions).winner)
        return None if rec is None else DeviceEntry.from_record(rec)
    except (FormatError, TamperError, UnsupportedVersionError):
        return None


def entries(vault: Any) -> list[DeviceEntry]:
    """Every device of the account this device knows of (its entries synced so far), oldest first."""
    out = []
    for versions in vault.store.versions_with_prefix(RECORD_PREFIX).values():
        entry = _entry(vault, versions)
        if entry is not None:
            out.append(entry)
    return sorted(out, key=lambda e: (e.first_seen, e.id))


def touch(vault: Any, method: str | None = None, force: bool = False) -> DeviceEntry:
    """Write this device's entry when it is missing, its method changed or its last_seen is over
    SEEN_EVERY old (before each sync: the entry rides that sync). Returns the entry."""
    public = ensure_key(vault)
    with vault.store.transaction():
        current = entry_of(vault, vault.device)
        at = now()
        if current is None:
            entry = DeviceEntry(vault.device, default_name(), method or "none", at, at, public)
        elif (
            force
            or current.public_key != public
            or (method is not None and method != current.method)
            or at - current.last_seen >= SEEN_EVERY
        ):
            entry = replace(current.seen(method or current.method, at), public_key=public)
        else:
            return current
        vault.write_device_entry(entry.to_record())
    return entry
