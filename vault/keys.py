"""The key hierarchy: P, AK → K_pw, K_qr, K_unlock, x_auth, VK (two-secret derivation).

    K_pw     = Argon2id(NFKD(P), salt, params)
    K_qr     = HKDF(K_pw, "qr-wrap")                  wraps AK → EAK (the Kit)
    K_unlock = HKDF(K_pw ‖ AK, salt=account id, "unlock")  wraps VK (needs both secrets)
    x_auth   = HKDF(K_pw ‖ AK, salt=account id, "auth")    the only input to server auth
    VK       = 32 random bytes; record/file/LAN/backup keys are HKDF sub-keys of it

Every (re)wrap draws a new salt, so K_qr is used for exactly one EAK and its fixed nonce is safe.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field

from . import kdf, safejson
from .crypto import Sealer, associated_data, hkdf
from .errors import (
    FormatError,
    KitError,
    KitReason,
    TamperError,
    UnsupportedVersionError,
    WrongPasswordError,
)
from .kdf import KdfParams
from .kitcode import ALPHABET, KitPayload

AK_LEN = 16
VK_LEN = 32
SLOT_VERSION = 1


def new_account_id() -> str:
    from secrets import choice  # here: importing secrets costs ~4 ms of every unlock

    return "".join(choice(ALPHABET) for _ in range(10))


@dataclass(frozen=True)
class KeySlot:
    """What a device keeps to unlock: the Kit payload (EAK) and VK wrapped under K_unlock.

    Nothing in it opens without the Account Password.
    """

    email: str
    kit: KitPayload
    wrapped_vk: bytes
    hint: str = ""

    @property
    def account_id(self) -> str:
        return self.kit.account_id

    @property
    def generation(self) -> int:
        return self.kit.generation

    @property
    def epoch(self) -> int:
        return self.kit.epoch

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "v": SLOT_VERSION,
                "email": self.email,
                "hint": self.hint,
                "kit": self.kit.to_qr_text(),
                "wvk": base64.b64encode(self.wrapped_vk).decode(),
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> KeySlot:
        try:
            obj = safejson.loads(raw)
            if not isinstance(obj, dict):  # '[]' read .get of a list: AttributeError, exit 70
                raise ValueError("not a JSON object")
            if obj.get("v") != SLOT_VERSION:
                raise UnsupportedVersionError(f"key slot version {obj.get('v')} is not supported")
            return cls(
                obj["email"],
                KitPayload.from_qr_text(obj["kit"]),
                base64.b64decode(obj["wvk"]),
                obj.get("hint", ""),
            )
        except (ValueError, KeyError, TypeError, KitError) as exc:
            raise FormatError("this device's key slot is damaged") from exc


@dataclass(frozen=True, repr=False)
class UnlockedKeys:
    """Keys in memory while unlocked. `repr` and `str` never show key bytes."""

    account_id: str
    generation: int
    epoch: int
    ak: bytes = field(repr=False)
    vk: bytes = field(repr=False)
    x_auth: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"UnlockedKeys(account_id={self.account_id!r}, generation={self.generation}, epoch={self.epoch}, <keys hidden>)"

    __str__ = __repr__

    def subkey(self, purpose: str) -> bytes:
        """Purpose-bound sub-key of VK ("records", "data.mssb", "lan", "backup", …)."""
        return hkdf(self.vk, f"strongroom vk/{purpose} v1", salt=self.account_id.encode())


def _qr_key(k_pw: bytes) -> bytes:
    return hkdf(k_pw, "strongroom qr-wrap v1")


def _two_secret(k_pw: bytes, ak: bytes, account_id: str, purpose: str) -> bytes:
    return hkdf(k_pw + ak, f"strongroom {purpose} v1", salt=account_id.encode())


def _vk_ad(account_id: str, generation: int, epoch: int) -> bytes:
    return associated_data("strongroom/vk", account_id, generation, epoch)


def wrap(
    password: str,
    ak: bytes,
    vk: bytes,
    account_id: str,
    generation: int,
    epoch: int,
    params: KdfParams | None = None,
) -> tuple[KitPayload, bytes, bytes]:
    """Wrap AK (→ Kit) and VK under a password with a fresh salt; returns (kit, wrapped VK, x_auth)."""
    params = params or kdf.default_params()
    salt = os.urandom(kdf.SALT_LEN)
    k_pw = kdf.derive_password_key(password, salt, params)
    unsigned = KitPayload(account_id, generation, epoch, params, salt, b"")
    eak = Sealer(_qr_key(k_pw)).seal_fixed(ak, unsigned.header())
    kit = KitPayload(account_id, generation, epoch, params, salt, eak)
    wrapped_vk = Sealer(_two_secret(k_pw, ak, account_id, "unlock")).seal(
        vk, _vk_ad(account_id, generation, epoch)
    )
    return kit, wrapped_vk, _two_secret(k_pw, ak, account_id, "auth")


def seal_kit(
    account_id: str,
    generation: int,
    epoch: int,
    params: KdfParams,
    salt: bytes,
    ak: bytes,
    k_pw: bytes,
) -> KitPayload:
    """The Kit for a known AK and K_pw (deterministic: the same bytes `wrap` made for this salt).

    Lets a device that holds AK follow a password change made elsewhere (sync/mssb.py).
    """
    unsigned = KitPayload(account_id, generation, epoch, params, salt, b"")
    return KitPayload(
        account_id,
        generation,
        epoch,
        params,
        salt,
        Sealer(_qr_key(k_pw)).seal_fixed(ak, unsigned.header()),
    )


def create_account(
    email: str, password: str, hint: str = "", params: KdfParams | None = None
) -> tuple[KeySlot, UnlockedKeys]:
    """New account id, Account Key and Vault Key, all made here; generation 1, epoch 1."""
    account_id = new_account_id()
    ak, vk = os.urandom(AK_LEN), os.urandom(VK_LEN)
    kit, wvk, x_auth = wrap(password, ak, vk, account_id, 1, 1, params)
    slot = KeySlot(kdf.normalize_email(email), kit, wvk, hint)
    return slot, UnlockedKeys(account_id, 1, 1, ak, vk, x_auth)


def open_account_key(kit: KitPayload, password: str) -> tuple[bytes, bytes]:
    """AK from the Kit with the password; returns (AK, K_pw). Checks KDF cost before deriving."""
    kdf.check_params(kit.params)
    k_pw = kdf.derive_password_key(password, kit.salt, kit.params)
    try:
        ak = Sealer(_qr_key(k_pw)).open_fixed(kit.eak, kit.header(), "Encrypted Account Key")
    except TamperError:
        raise WrongPasswordError("wrong Account Password") from None
    return ak, k_pw


def open_vault_key(kit: KitPayload, ak: bytes, k_pw: bytes, wrapped_vk: bytes) -> UnlockedKeys:
    """VK from AK and K_pw. KitError(OTHER_ACCOUNT) if they do not fit `wrapped_vk`.

    What a failure means depends on where AK and `wrapped_vk` came from, so callers that know
    better translate it (`unlock`: damaged key slot; sync: wrong new password).
    """
    acct = kit.account_id
    try:
        vk = Sealer(_two_secret(k_pw, ak, acct, "unlock")).open(
            wrapped_vk, _vk_ad(acct, kit.generation, kit.epoch), "wrapped Vault Key"
        )
    except TamperError:
        raise KitError(
            KitReason.OTHER_ACCOUNT, "its Account Key does not open this vault"
        ) from None
    return UnlockedKeys(
        acct, kit.generation, kit.epoch, ak, vk, _two_secret(k_pw, ak, acct, "auth")
    )


def unlock(slot: KeySlot, password: str) -> UnlockedKeys:
    """One Argon2id run, then AK and VK; a wrong password raises WrongPasswordError."""
    ak, k_pw = open_account_key(slot.kit, password)
    try:
        return open_vault_key(slot.kit, ak, k_pw, slot.wrapped_vk)
    except KitError:
        # The password opened this slot's own Kit, so a VK that will not open is damaged data,
        # not a foreign Kit.
        raise TamperError(
            "this device's key slot is damaged: the Vault Key does not open "
            "(restore from a backup or sign in again with your Kit)"
        ) from None


def auth_secret(kit: KitPayload, ak: bytes, k_pw: bytes) -> bytes:
    """x_auth for a Kit opened with the password (`open_account_key`), before any VK is known.

    A new device proves to a Wi-Fi peer that it holds both secrets with a key derived from this.
    """
    return _two_secret(k_pw, ak, kit.account_id, "auth")


def check_kit_against(kit: KitPayload, account_id: str, generation: int, epoch: int) -> None:
    """Raise the exact KitError reason if this Kit is not the current one for the account."""
    if kit.account_id != account_id:
        raise KitError(
            KitReason.OTHER_ACCOUNT, f"Kit is for account {kit.account_id}, this is {account_id}"
        )
    if kit.generation < generation:
        raise KitError(KitReason.BEFORE_RESET)
    if kit.generation > generation:
        raise KitError(KitReason.NEWER, "the account was reset after this device last synced")
    if kit.epoch < epoch:
        raise KitError(KitReason.OUTDATED)
    if kit.epoch > epoch:
        raise KitError(KitReason.NEWER, "the password was changed after this device last synced")


def change_password(
    slot: KeySlot, keys: UnlockedKeys, new_password: str, params: KdfParams | None = None
) -> tuple[KeySlot, UnlockedKeys]:
    """New salt, epoch + 1, AK and VK kept (other devices need only the new password)."""
    return _rewrap(slot, keys, new_password, keys.ak, params)


def rotate_account_key(
    slot: KeySlot, keys: UnlockedKeys, password: str, params: KdfParams | None = None
) -> tuple[KeySlot, UnlockedKeys]:
    """New AK (and so a new Kit), epoch + 1; the password stays the same."""
    unlock(slot, password)  # proves the caller knows the current password
    return _rewrap(slot, keys, password, os.urandom(AK_LEN), params)


def _rewrap(
    slot: KeySlot, keys: UnlockedKeys, password: str, ak: bytes, params: KdfParams | None
) -> tuple[KeySlot, UnlockedKeys]:
    epoch = keys.epoch + 1
    kit, wvk, x_auth = wrap(
        password, ak, keys.vk, keys.account_id, keys.generation, epoch, params or slot.kit.params
    )
    new_slot = KeySlot(slot.email, kit, wvk, slot.hint)
    return new_slot, UnlockedKeys(keys.account_id, keys.generation, epoch, ak, keys.vk, x_auth)
