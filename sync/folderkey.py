"""account.key: the Encrypted Account Key saved next to data.mssb, by the user's choice (off by default).

With it, a new device signs in from the folder with the email and Account Password alone (the
iCloud Drive behaviour in PRODUCT.md). The price: whoever can read the folder (the provider, or
anyone who gets into that cloud account) then holds everything needed to guess the Account Password
offline; the Kit's 128-bit Account Key no longer stands in the way. The file holds exactly what the
Kit's QR code holds, EAK = AES-256-GCM(K_qr, AK) with K_qr derived from the password alone, so only
the Account Password opens it; never AK, VK, K_pw or the password itself.

Format `SRAK` v1 (docs/formats.md): magic "SRAK" | version u8 | Kit payload (68 bytes, header as
associated data of the EAK) | SHA-256 of the preceding bytes (32). The checksum tells a damaged or
edited file ("sign in with your Kit instead") apart from a wrong password; someone who recomputes
it after editing gains nothing: the EAK still opens only with the password, and its header fields
(KDF cost included) are bound to it.

The file's presence *is* the setting, shared by every device of the account: each sync re-saves it
when this device holds a newer Kit (after `passwd`, the stored key follows the new password), and
only turning the setting off (`strongroom sync folder DIR --no-store-key`) removes it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from vault import keys as keymod
from vault.durable import fsync_dir
from vault.errors import KitError, TamperError, WrongPasswordError
from vault.kitcode import PAYLOAD_LEN, KitPayload

from . import mssb
from .errors import SyncError

FILE_NAME = "account.key"
MAGIC = b"SRAK"
VERSION = 1
_SUM = 32
SIZE = len(MAGIC) + 1 + PAYLOAD_LEN + _SUM

#: What the CLI help and the TUI setting say about the trade-off.
TRADE_OFF = (
    "Saves the Encrypted Account Key in the sync folder so that a new device signs in with "
    "the email and Account Password alone, without the Authentication Kit. Only the "
    "password opens it, but whoever can read the folder (the provider, or anyone who gets "
    "into that account) then holds everything needed to guess your password offline: the "
    "Kit no longer protects you. Off by default."
)


class DamagedAccountKeyError(TamperError, SyncError):
    """account.key is not a readable saved key (truncated, edited, not ours): use the Kit instead."""


class NoSavedAccountKeyError(SyncError):
    """The folder holds no account.key: the Kit is needed to sign in."""


def path_for(folder: Path, account_id: str) -> Path:
    return mssb.account_dir(folder, account_id) / FILE_NAME


def encode(kit: KitPayload) -> bytes:
    body = MAGIC + bytes([VERSION]) + kit.to_bytes()
    return body + hashlib.sha256(body).digest()


def decode(data: bytes, where: str = FILE_NAME) -> KitPayload:
    """The Kit payload inside; DamagedAccountKeyError with a plain reason otherwise."""
    damaged = (
        f"the account key saved in {where} is damaged or was changed; sign in with your "
        "Authentication Kit instead (--kit FILE or --code CODE)"
    )
    if not data.startswith(MAGIC):
        raise DamagedAccountKeyError(
            f"{where} is not a Strongroom account key; sign in with your Kit instead"
        )
    if len(data) > len(MAGIC) and data[len(MAGIC)] > VERSION:
        raise DamagedAccountKeyError(
            f"{where} was saved by a newer Strongroom (account key format "
            f"{data[len(MAGIC)]}); update Strongroom or sign in with your Kit"
        )
    if (
        len(data) != SIZE
        or data[len(MAGIC)] != VERSION
        or hashlib.sha256(data[:-_SUM]).digest() != data[-_SUM:]
    ):
        raise DamagedAccountKeyError(damaged)
    try:
        return KitPayload.from_bytes(data[len(MAGIC) + 1 : -_SUM])
    except KitError:
        raise DamagedAccountKeyError(damaged) from None


def read(path: Path) -> KitPayload | None:
    """The saved Kit payload, None when there is no file; DamagedAccountKeyError if unreadable."""
    data = mssb.read_bytes(path)
    return None if data is None else decode(data, str(path))


def find(folder: Path) -> list[Path]:
    """Every `<AccountID>/account.key` in a sync folder (one per account that turned it on)."""
    return sorted(folder.glob(f"*/{FILE_NAME}"))


def save(folder: Path, kit: KitPayload) -> Path:
    """Write (or replace) the account's saved key atomically; verified before it replaces anything."""
    path = path_for(folder, kit.account_id)
    path.parent.mkdir(exist_ok=True)
    mssb.write_atomic(path, encode(kit), lambda data: _same(decode(data), kit))
    return path


def _same(read_back: KitPayload, kit: KitPayload) -> None:
    if read_back != kit:
        raise DamagedAccountKeyError(
            "the saved account key did not read back as written; nothing was replaced"
        )


def remove(folder: Path, account_id: str) -> bool:
    """Turn the setting off: delete the saved key. True if there was one."""
    try:
        path_for(folder, account_id).unlink()
    except FileNotFoundError:
        return False
    fsync_dir(mssb.account_dir(folder, account_id))
    return True


def refresh(folder: Path, kit: KitPayload) -> bool:
    """Keep a saved key current with this device's Kit (called by every folder sync).

    Re-saved when it is older (a password change here) or damaged; left
    alone when it is newer than this device (the sync file will say the password changed) or
    belongs to another account. A key from before an account reset only helps guess a password
    that no longer exists, so it is removed. Returns True if the folder changed.
    """
    path = path_for(folder, kit.account_id)
    data = mssb.read_bytes(path)
    if data is None:
        return False
    want = encode(kit)
    if data == want:
        return False
    try:
        saved = decode(data, str(path))
    except DamagedAccountKeyError:
        save(folder, kit)  # repair: this device holds the current key
        return True
    if saved.account_id != kit.account_id:
        return False
    if saved.generation < kit.generation:
        remove(folder, kit.account_id)
        return True
    if (saved.generation, saved.epoch) > (kit.generation, kit.epoch):
        return False
    save(folder, kit)
    return True


def open_account_key(kit: KitPayload, password: str) -> tuple[bytes, bytes]:
    """(AK, K_pw) from a saved key and the Account Password; WrongPasswordError says where it came from."""
    try:
        return keymod.open_account_key(kit, password)
    except WrongPasswordError:
        raise WrongPasswordError(
            "wrong Account Password (it does not open the account key saved in the folder)"
        ) from None
