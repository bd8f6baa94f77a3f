"""Removing a device: new keys for everyone but it (docs/design.md "Devices and removal").

A removal made on device R, unlocked with the password typed:

- makes a new Vault Key VK′ and a new Account Key AK′ (so a new Kit), epoch + 1, and wraps VK′
  under the password and AK′ into the new key slot, as an Account Key rotation does;
- wraps the *key bundle* (AK′, VK′, x_auth′ and the new Kit payload) to each remaining device's
  public key (vault/devices.py `wrap_to_device`), the removed device left out;
- puts the new slot's wrapped VK, the wraps and "X removed by R at T" into one *key change*
  (`SRKC` container, formats.md), sealed under the **old** VK's `key-change` sub-key: only a
  member of the account can write one, and each remaining device, still holding the old VK,
  opens it, finds its own wrap and follows with nothing typed;
- re-encrypts every stored version under VK′ *in place* (`rekey_store`): same vector, clock and
  writer, a deterministic nonce, so every device re-encrypting one version gets the same bytes
  and no version is duplicated or made to conflict with itself.

The sync layer publishes the key change first-wins (the folder: an exclusive create; the server:
the epoch compare-and-swap) before the store is re-encrypted, so a refused removal changes nothing.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import attachments, devices, safejson
from . import keys as keymod
from .container import parse_container, seal_container
from .crypto import Sealer
from .envelope import Envelope, record_ad
from .errors import (
    FormatError,
    InvalidInputError,
    KitError,
    KitReason,
    NotFoundError,
    TamperError,
    UnsupportedVersionError,
    VaultError,
)
from .keys import KeySlot, UnlockedKeys
from .kitcode import KitPayload

MAGIC = b"SRKC"
VERSION = 1
SUBKEY = "key-change"
#: store meta: the key changes this device made or followed (JSON list), for old-Kit reasons
HISTORY_META = "key_changes"
#: store meta prefix: the keys a key change moved to, sealed under the keys it moved from, so
#: another process of this device still holding the old keys follows without the password
NEXT_META = "next_keys."
#: store meta: the latest key changes with the old keys' "lan" sub-key, sealed under the current
#: VK, so this device hands a Wi-Fi peer still on the old keys its key change (sync/wifi)
SERVED_META = "served_key_changes"
SERVED_KEEP = 4


class DeviceRemovedError(VaultError):
    """This device was removed from the account on another device: it gets no new keys."""


class NoWrapForDeviceError(VaultError):
    """A key change carries no keys for this device (it was not in the device list then)."""


def key_id(keys: UnlockedKeys) -> str:
    """Which VK: 16 bytes of a VK sub-key, base64 (the folder's `kid`; reveals nothing of VK)."""
    return base64.b64encode(keys.subkey("folder key id")[:16]).decode()


@dataclass(frozen=True)
class KeyChange:
    """One key change made by a removal (its public header and its sealed body)."""

    account_id: str
    generation: int
    from_epoch: int
    to_epoch: int
    kid_from: str
    kid_to: str
    removed: str
    by: str
    removed_name: str = ""
    by_name: str = ""
    at: float = 0.0
    wrapped_vk: bytes = b""
    wraps: dict[str, bytes] = field(default_factory=dict)

    def header(self) -> dict[str, Any]:
        return {
            "account": self.account_id,
            "gen": self.generation,
            "from": self.from_epoch,
            "to": self.to_epoch,
            "kid_from": self.kid_from,
            "kid_to": self.kid_to,
            "removed": self.removed,
        }

    def body(self) -> bytes:
        return json.dumps(
            {
                "v": VERSION,
                "by": self.by,
                "by_name": self.by_name,
                "removed_name": self.removed_name,
                "at": self.at,
                "wvk": base64.b64encode(self.wrapped_vk).decode(),
                "wraps": {d: base64.b64encode(w).decode() for d, w in sorted(self.wraps.items())},
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()

    def seal(self, old: UnlockedKeys) -> bytes:
        """The `SRKC` v1 bytes, sealed under the old VK's key-change sub-key."""
        return seal_container(MAGIC, VERSION, self.header(), self.body(), old.subkey(SUBKEY))

    def describe(self) -> str:
        """'laptop (1a2b3c4d)' for the removed device."""
        return f"{self.removed_name} ({self.removed})" if self.removed_name else self.removed

    def remover(self) -> str:
        return f"{self.by_name} ({self.by})" if self.by_name else self.by

    def summary(self) -> dict[str, Any]:
        """What a device keeps about it in its store, in clear (ids and epochs; no keys and no
        device names, which stay inside encrypted records)."""
        return {
            "from": self.from_epoch,
            "to": self.to_epoch,
            "kid_from": self.kid_from,
            "removed": self.removed,
            "by": self.by,
            "at": self.at,
        }


def read_header(data: bytes) -> dict[str, Any]:
    """The public header of a key change (no key needed); FormatError when it is not one."""
    c = parse_container(data, MAGIC, VERSION, "key change")
    h = c.header
    try:
        if not (
            isinstance(h["account"], str)
            and all(isinstance(h[k], int) for k in ("gen", "from", "to"))
            and all(isinstance(h[k], str) for k in ("kid_from", "kid_to", "removed"))
        ):
            raise TypeError
    except (KeyError, TypeError):
        raise FormatError("the key change's header is malformed") from None
    return h


def open_change(data: bytes, old: UnlockedKeys) -> KeyChange:
    """Open a key change with the keys it moves from; TamperError when it is not sealed with
    them (forged, altered, or another epoch's), FormatError when malformed."""
    c = parse_container(data, MAGIC, VERSION, "key change")
    h = read_header(data)
    body = Sealer(old.subkey(SUBKEY)).open(c.sealed_body, c.prefix, "the key change")
    try:
        b = safejson.loads(body)
        if b.get("v") != VERSION:
            raise UnsupportedVersionError(f"key change body version {b.get('v')} is not supported")
        return KeyChange(
            h["account"],
            h["gen"],
            h["from"],
            h["to"],
            h["kid_from"],
            h["kid_to"],
            h["removed"],
            str(b["by"]),
            str(b.get("removed_name", "")),
            str(b.get("by_name", "")),
            float(b.get("at", 0.0)),
            base64.b64decode(b["wvk"], validate=True),
            {str(d): base64.b64decode(w, validate=True) for d, w in b["wraps"].items()},
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise FormatError("the key change's body is malformed") from exc


# -- re-encrypting the store ------------------------------------------------------------------------
def _nonce_key(keys: UnlockedKeys) -> bytes:
    return keys.subkey("rekey-nonce")


@dataclass(frozen=True)
class FileKeys:
    """The `attachments` sub-keys a re-encryption moves file keys between."""

    old: bytes
    new: bytes


def rekey_envelope(
    env: Envelope,
    old: Sealer,
    new: Sealer,
    nonce_key: bytes,
    account: str,
    files: FileKeys | None = None,
) -> bytes:
    """The envelope's body re-encrypted under the new record key: the same padded plaintext and
    associated data, nonce = HMAC-SHA256(nonce key, AD ‖ plaintext)[:12] (deterministic, so any
    device re-encrypting this version makes these exact bytes; a nonce repeats only with the
    same plaintext and AD, which gives the same ciphertext). TamperError when it does not open.

    With `files`, the file keys the record carries (its attachments' and its history's) are
    re-wrapped under the new `attachments` sub-key first, each in place and as deterministically:
    the old VK no longer opens anything a remaining device holds."""
    ad = record_ad(account, env.header())
    plaintext = old.open(env.ciphertext, ad, "record")
    if files is not None:
        plaintext = rewrap_file_keys(plaintext, files, nonce_key, account)
    nonce = hmac.digest(nonce_key, ad + plaintext, "sha256")[:12]
    return nonce + new.encrypt_with_nonce(nonce, plaintext, ad)


def _attachment_entries(obj: Any) -> list[dict[str, Any]]:
    """Every attachment entry in a record's JSON: its own (`att`) and its versions' (`v`)."""
    found: list[dict[str, Any]] = []
    if not isinstance(obj, dict):
        return found
    for entry in obj.get("att") or ():
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            found.append(entry)
    for version in obj.get("v") or ():
        if isinstance(version, list) and len(version) == 3:
            found.extend(_attachment_entries(version[2]))
    return found


def rewrap_file_keys(plaintext: bytes, files: FileKeys, nonce_key: bytes, account: str) -> bytes:
    """`plaintext` with each file key wrapped under `files.new` instead of `files.old`.

    The wrapped key is base64 of nonce ‖ sealed key, the same length under either key, so it is
    replaced in place: the padding and every other byte stay as they were. The new nonce is
    HMAC(nonce key, "file-key" ‖ AD ‖ file key)[:12], so every device makes the same bytes. A key
    that does not open under the old sub-key (already moved, or damaged) is left as it is."""
    from .padding import unpad

    try:
        obj = safejson.loads(unpad(plaintext))
    except (FormatError, UnsupportedVersionError, ValueError):
        return plaintext  # not a record body this can read: re-encrypted as it is
    old_s, new_s = Sealer(files.old), Sealer(files.new)
    out = plaintext
    for entry in _attachment_entries(obj):
        wrapped, att_id = entry["key"], str(entry.get("id", ""))
        ad = attachments.key_ad(account, att_id)
        try:
            file_key = old_s.open(base64.b64decode(wrapped, validate=True), ad, "file key")
        except (TamperError, ValueError):
            continue
        nonce = hmac.digest(nonce_key, b"file-key" + ad + file_key, "sha256")[:12]
        moved = base64.b64encode(nonce + new_s.encrypt_with_nonce(nonce, file_key, ad)).decode()
        if len(moved) == len(wrapped):
            out = out.replace(wrapped.encode(), moved.encode())
    return out


def rekey_store(store: Any, old: UnlockedKeys, new: UnlockedKeys) -> list[Envelope]:
    """Every stored version re-encrypted from `old` to `new` in place (one transaction); one that
    already opens under `new` (re-encrypted by another process) or opens under neither is left.
    Returns the versions re-encrypted, as now stored."""
    old_s = Sealer(old.subkey("records"))
    new_s = Sealer(new.subkey("records"))
    nonce_key = _nonce_key(new)
    account = new.account_id
    files = FileKeys(old.subkey(attachments.SUBKEY), new.subkey(attachments.SUBKEY))

    def change(env: Envelope) -> bytes | None:
        try:
            return rekey_envelope(env, old_s, new_s, nonce_key, account, files)
        except TamperError:
            return None

    return list(store.rekey(change))


# -- making a removal -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Removal:
    """A removal made here, ready to publish: the key change and the keys it moves to."""

    change: KeyChange
    sealed: bytes
    slot: KeySlot
    keys: UnlockedKeys
    old_keys: UnlockedKeys


def prepare(vault: Any, device: str, password: str) -> Removal:
    """New AK′ and VK′ (epoch + 1) and the key change removing `device`; nothing is stored yet.

    NotFoundError when the device is not in the list; InvalidInputError for this device itself.
    The password must be the current one (checked by a KDF run, as a key rotation does)."""
    if device == vault.device:
        raise InvalidInputError(
            "this is the device you are using; remove it from another device of the account"
        )
    known = {e.id: e for e in devices.entries(vault)}
    if device not in known:
        listed = ", ".join(sorted(known)) or "none"
        raise NotFoundError(
            f"no device {device!r} in this account's device list (devices: {listed}); "
            "run `strongroom devices` to see them"
        )
    old = vault.keys
    keymod.unlock(vault.slot, password)  # the current password, proven here
    ak, vk = os.urandom(keymod.AK_LEN), os.urandom(keymod.VK_LEN)
    epoch = old.epoch + 1
    kit, wvk, x_auth = keymod.wrap(
        password, ak, vk, old.account_id, old.generation, epoch, vault.slot.kit.params
    )
    new = UnlockedKeys(old.account_id, old.generation, epoch, ak, vk, x_auth)
    bundle = devices.key_bundle(ak, vk, x_auth, kit.to_bytes())
    me = devices.touch(vault)
    wraps: dict[str, bytes] = {}
    for entry in [*known.values(), me]:
        if entry.id == device or len(entry.public_key) != devices.KEY_LEN:
            continue
        wraps[entry.id] = devices.wrap_to_device(
            bundle, entry.public_key, old.account_id, old.generation, epoch, entry.id
        )
    change = KeyChange(
        old.account_id,
        old.generation,
        old.epoch,
        epoch,
        key_id(old),
        key_id(new),
        device,
        vault.device,
        known[device].name,
        me.name,
        time.time(),
        wvk,
        wraps,
    )
    slot = KeySlot(vault.slot.email, kit, wvk, vault.slot.hint)
    return Removal(change, change.seal(old), slot, new, old)


def commit(vault: Any, removal: Removal) -> list[Envelope]:
    """Store a removal made here (after the sync layer published its key change): the removed
    device's entry tombstoned, every version re-encrypted, this device's key re-sealed, the new
    slot and keys. Returns the versions re-encrypted (as now stored)."""
    with vault.store.transaction():
        vault.remove_device_entry(removal.change.removed)
        return _move(
            vault, removal.old_keys, removal.keys, removal.slot, removal.change, removal.sealed
        )


def _move(
    vault: Any,
    old: UnlockedKeys,
    new: UnlockedKeys,
    slot: KeySlot,
    change: KeyChange,
    sealed: bytes,
) -> list[Envelope]:
    """Re-encrypt the store from `old` to `new` and adopt `slot` (inside the caller's transaction)."""
    from .index import reseal

    store = vault.store
    private = devices.private_key(vault)
    n = rekey_store(store, old, new)
    reseal(store, old.account_id, old.subkey("index"), new.subkey("index"))
    devices.reseal_key(vault, private, new)
    note = _history(store) + [change.summary()]
    store.set_meta(HISTORY_META, json.dumps(note, sort_keys=True).encode())
    store.set_meta(
        f"{NEXT_META}{old.epoch}",
        Sealer(old.subkey("next-keys")).seal(
            devices.key_bundle(new.ak, new.vk, new.x_auth, slot.kit.to_bytes()) + slot.wrapped_vk,
            b"strongroom/next-keys",
        ),
    )
    served = [(old.subkey("lan"), sealed)] + [
        (lan, data) for lan, data in served_changes(store, old)
    ]
    store.set_meta(SERVED_META, _seal_served(new, served[:SERVED_KEEP]))
    vault.replace_slot(slot, new)
    return n


def _seal_served(keys: UnlockedKeys, served: list[tuple[bytes, bytes]]) -> bytes:
    raw = json.dumps(
        [[base64.b64encode(lan).decode(), base64.b64encode(d).decode()] for lan, d in served]
    ).encode()
    return Sealer(keys.subkey("served-key-changes")).seal(raw, b"strongroom/served-key-changes")


def served_changes(store: Any, keys: UnlockedKeys) -> list[tuple[bytes, bytes]]:
    """(old "lan" sub-key, key change bytes) of the latest key changes made or followed here,
    newest first: what this device hands a Wi-Fi peer that proves one of those old keys."""
    raw = store.get_meta(SERVED_META)
    if not raw:
        return []
    try:
        opened = Sealer(keys.subkey("served-key-changes")).open(
            raw, b"strongroom/served-key-changes", "served key changes"
        )
        return [(base64.b64decode(a), base64.b64decode(b)) for a, b in safejson.loads(opened)]
    except (TamperError, ValueError, TypeError):
        return []


def _history(store: Any) -> list[dict[str, Any]]:
    raw = store.get_meta(HISTORY_META)
    try:
        out = safejson.loads(raw) if raw else []
        return [c for c in out if isinstance(c, dict)]
    except ValueError:
        return []


def history(vault: Any) -> list[dict[str, Any]]:
    """The removals this device made or followed (no keys), oldest first."""
    return _history(vault.store)


def retired_kids(vault: Any) -> frozenset[str]:
    """Key ids of the Vault Keys this device moved away from: files sealed under them are old."""
    return frozenset(str(c.get("kid_from")) for c in _history(vault.store) if c.get("kid_from"))


# -- following a removal made elsewhere -------------------------------------------------------------
def follow(vault: Any, change: KeyChange, sealed: bytes = b"") -> list[Envelope]:
    """Take the keys a key change wrapped to this device (nothing typed): unwrap with this
    device's key, check them against the change, re-encrypt the store, adopt the new slot.

    DeviceRemovedError when this device is the one removed; NoWrapForDeviceError when the change
    holds nothing for it. Returns the versions re-encrypted (as now stored)."""
    if vault.follow_key_change():  # another process of this device made or followed it
        return []
    old = vault.keys
    if change.removed == vault.device:
        raise DeviceRemovedError(
            f"this device was removed from the account by {change.remover()}"
            + (f" on {_when(change.at)}" if change.at else "")
            + ": it gets no new keys and reads nothing written since. Its records stay here; "
            "to use the account on it again, sign in anew (new --home) with the new Kit"
        )
    wrapped = change.wraps.get(vault.device)
    if wrapped is None:
        raise NoWrapForDeviceError(
            f"device {change.describe()} was removed from the account by {change.remover()}, and "
            "the new keys were not wrapped to this device (it was not in the device list then); "
            "sign in again (new --home) with the new password and Kit"
        )
    private = devices.private_key(vault)
    raw = devices.unwrap_for_device(
        wrapped, private, old.account_id, old.generation, change.to_epoch, vault.device
    )
    ak, vk, x_auth, kit_raw = devices.open_bundle_kit(raw)
    kit = KitPayload.from_bytes(kit_raw)
    new = UnlockedKeys(old.account_id, old.generation, change.to_epoch, ak, vk, x_auth)
    if (kit.account_id, kit.generation, kit.epoch) != (
        old.account_id,
        old.generation,
        change.to_epoch,
    ) or key_id(new) != change.kid_to:
        raise TamperError("the keys wrapped to this device do not match their key change")
    slot = KeySlot(vault.slot.email, kit, change.wrapped_vk, vault.slot.hint)
    with vault.store.transaction():
        return _move(vault, old, new, slot, change, sealed)


def keys_after(store: Any, keys: UnlockedKeys) -> UnlockedKeys | None:
    """The keys a key change made or followed on this device moved `keys` to (following each
    change after it), from the store: another process of this device that still holds the old
    keys in memory (the app, the agent) moves with it, nothing typed. None when there is none."""
    moved: UnlockedKeys | None = None
    while True:
        sealed = store.get_meta(f"{NEXT_META}{keys.epoch}")
        if sealed is None:
            return moved
        try:
            raw = Sealer(keys.subkey("next-keys")).open(sealed, b"strongroom/next-keys", "keys")
            ak, vk, x_auth, kit_raw = devices.open_bundle_kit(raw[: 1 + 80 + devices.KIT_LEN])
            epoch = KitPayload.from_bytes(kit_raw).epoch
        except (TamperError, FormatError, UnsupportedVersionError):
            return moved
        keys = moved = UnlockedKeys(keys.account_id, keys.generation, epoch, ak, vk, x_auth)


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))


# -- old Kits ---------------------------------------------------------------------------------------
def replaced_reason(kit_epoch: int, changes: list[dict[str, Any]]) -> str | None:
    """'replaced when device X was removed' for a Kit from before a removal, else None."""
    for c in changes:
        try:
            if int(c["from"]) >= kit_epoch:
                name = c.get("removed_name") or ""
                who = f"{c['removed']} ({name})" if name else str(c["removed"])
                return f"replaced when device {who} was removed"
        except (KeyError, TypeError, ValueError):
            continue
    return None


def check_kit(
    kit: KitPayload,
    slot: KeySlot,
    changes: list[dict[str, Any]],
    key_changes: Sequence[Mapping[str, Any]] = (),
) -> None:
    """`keys.check_kit_against`, with an older Kit from before a removal refused as replaced,
    and one from before a password change or key rotation made here said to be so
    (`key_changes`: Vault.key_changes, the first change after the Kit's epoch is the reason)."""
    if kit.account_id == slot.account_id and kit.generation == slot.generation:
        if kit.epoch < slot.epoch:
            reason = replaced_reason(kit.epoch, changes)
            if reason:
                raise KitError(KitReason.REPLACED, reason)
            first = next((c for c in key_changes if c.get("from", -1) >= kit.epoch), None)
            if first is not None and first.get("why") == "rotation":
                raise KitError(KitReason.ROTATED)
            if first is not None and first.get("why") == "password":
                raise KitError(KitReason.PASSWORD_CHANGED)
    keymod.check_kit_against(kit, slot.account_id, slot.generation, slot.epoch)
