"""data.mssb: the folder sync file, one per account at `<folder>/<AccountID>/data.mssb`.

A `vault.container` with magic b"MSSB", version 1. The public header says who may read it
(account id, generation, epoch), who wrote it (device, write sequence) and how to get VK from
the Account Password and the Kit (KDF params, salt, VK wrapped under K_unlock); it holds no EAK
unless the user opted in (then `account.key` sits next to it, see sync/folderkey.py). The body is
`pack_envelopes(all versions)` sealed with VK's "data.mssb" sub-key; the header is associated
data, so editing any header byte fails authentication. Spec: docs/formats.md.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vault import intake, kdf, safejson
from vault import keys as keymod
from vault.container import Container, encode_header, parse_container, seal_container
from vault.crypto import Sealer
from vault.durable import write_private_atomic
from vault.envelope import Envelope, split_envelopes
from vault.errors import (
    EpochChangedError,
    FormatError,
    GenerationChangedError,
    KitError,
    LockedError,
    TamperError,
    UnsupportedVersionError,
    WrongPasswordError,
)
from vault.intake import Refusal
from vault.kdf import KdfParams
from vault.keys import KeySlot, UnlockedKeys
from vault.kitcode import KitPayload

from .errors import (
    ForeignSyncFileError,
    NotASyncFileError,
    ObsoleteSyncFileError,
    SourceUnavailableError,
    SyncError,
    SyncFileVersionError,
)

MAGIC = b"MSSB"
VERSION = 1
FILE_NAME = "data.mssb"
WHAT = "sync file (data.mssb)"
SUBKEY = "data.mssb"


class FolderPasswordChangedError(EpochChangedError, SyncError):
    """The file is this account's, authenticated, but sealed after a password change elsewhere.

    Also a vault EpochChangedError, so callers that ask for the new password keep working."""


class FolderAccountResetError(GenerationChangedError, SyncError):
    """The file claims a newer generation (the account was reset elsewhere); it cannot be
    authenticated with this device's keys, so it is left alone and the user signs in again."""


class FileChangedWhileWritingError(SyncError):
    """Another device replaced data.mssb while we were writing ours: merge again, then retry."""


@dataclass(frozen=True)
class MssbHeader:
    """The public, authenticated header of a data.mssb file (no secrets)."""

    account_id: str
    generation: int
    epoch: int
    device: str
    seq: int
    params: KdfParams
    salt: bytes
    wrapped_vk: bytes
    account_key_in_folder: bool = False
    #: layout 2 (docs/formats.md): 2 = written by a device that knows change files; 1 = absent
    fmt: int = 1
    #: base64 key id of the VK that sealed the file (layout 2); None in a layout-1 file
    kid: str | None = None
    #: Unix time a layout-1 writer was last seen (carried on by compaction)
    legacy: float | None = None

    def to_obj(self) -> dict[str, Any]:
        obj = self._base_obj()
        if self.fmt >= 2:
            obj["fmt"] = self.fmt
        if self.kid is not None:
            obj["kid"] = self.kid
        if self.legacy is not None:
            obj["legacy"] = self.legacy
        return obj

    def _base_obj(self) -> dict[str, Any]:
        return {
            "account": self.account_id,
            "gen": self.generation,
            "epoch": self.epoch,
            "device": self.device,
            "seq": self.seq,
            "kdf": {"m": self.params.m_kib, "t": self.params.t, "p": self.params.p},
            "salt": base64.b64encode(self.salt).decode(),
            "wvk": base64.b64encode(self.wrapped_vk).decode(),
            "akf": self.account_key_in_folder,
        }

    @classmethod
    def from_obj(cls, o: dict[str, Any]) -> MssbHeader:
        try:
            k = o["kdf"]
            h = cls(
                str(o["account"]),
                int(o["gen"]),
                int(o["epoch"]),
                str(o["device"]),
                int(o["seq"]),
                KdfParams(int(k["m"]), int(k["t"]), int(k["p"])),
                base64.b64decode(o["salt"], validate=True),
                base64.b64decode(o["wvk"], validate=True),
                bool(o.get("akf", False)),
                int(o.get("fmt", 1)),
                None if o.get("kid") is None else str(o["kid"]),
                None if o.get("legacy") is None else float(o["legacy"]),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise NotASyncFileError(f"this {WHAT} has a damaged header") from exc
        if h.generation < 1 or h.epoch < 1 or len(h.salt) != kdf.SALT_LEN:
            raise NotASyncFileError(f"this {WHAT} has a damaged header")
        return h

    def unsigned_kit(self) -> KitPayload:
        """The Kit's public part as this file describes it (no EAK)."""
        return KitPayload(self.account_id, self.generation, self.epoch, self.params, self.salt, b"")

    @property
    def slot_fingerprint(self) -> str:
        """The folder's key slot as one value (compare-and-swap of password changes)."""
        return slot_fingerprint(self.generation, self.epoch, self.salt, self.wrapped_vk)


def slot_fingerprint(generation: int, epoch: int, salt: bytes, wrapped_vk: bytes) -> str:
    text = f"{generation}:{epoch}:{base64.b64encode(salt).decode()}:{base64.b64encode(wrapped_vk).decode()}"
    return hashlib.sha256(text.encode()).hexdigest()


def local_slot_fingerprint(slot: KeySlot) -> str:
    k = slot.kit
    return slot_fingerprint(k.generation, k.epoch, k.salt, slot.wrapped_vk)


def key_id(keys: UnlockedKeys) -> str:
    """Which VK sealed a folder file: 16 bytes of a VK sub-key (public; reveals nothing of VK)."""
    return base64.b64encode(keys.subkey("folder key id")[:16]).decode()


class FolderFileAlteredError(NotASyncFileError):
    """A folder file sealed with this account's key does not open: someone changed it."""


def account_dir(folder: Path, account_id: str) -> Path:
    return folder / account_id


def file_path(folder: Path, account_id: str) -> Path:
    return account_dir(folder, account_id) / FILE_NAME


def digest(data: bytes) -> str:
    """Content hash used to recognise our own writes and duplicate events."""
    return hashlib.sha256(data).hexdigest()


def header_for(
    slot: KeySlot,
    device: str,
    seq: int,
    account_key_in_folder: bool = False,
    kid: str | None = None,
    legacy: float | None = None,
) -> MssbHeader:
    """A snapshot header; with `kid` (layout 2) it is marked `fmt` 2."""
    k = slot.kit
    return MssbHeader(
        k.account_id,
        k.generation,
        k.epoch,
        device,
        seq,
        k.params,
        k.salt,
        slot.wrapped_vk,
        account_key_in_folder,
        2 if kid is not None else 1,
        kid,
        legacy,
    )


class Codec:
    """`pack_envelopes`/`unpack_envelopes` with a memory of envelopes already (de)serialised.

    A watcher re-reads and re-writes the whole file for every change; with 10,000 records the
    JSON work per envelope (~40 µs) would dominate. The body is authenticated as a whole before
    it is split, so identical chunk bytes are the identical envelope: reusing the earlier parse
    is safe. The memory holds about what the latest file holds (it is pruned as it grows).
    """

    def __init__(self) -> None:
        self._env_by_raw: dict[bytes, Envelope] = {}
        self._raw_by_env: dict[tuple[str, str, bytes], bytes] = {}

    def _prune(self, used: int) -> None:
        if len(self._env_by_raw) > 3 * used + 64:
            self._env_by_raw.clear()
            self._raw_by_env.clear()

    def _remember(self, raw: bytes, env: Envelope) -> None:
        self._env_by_raw[raw] = env
        self._raw_by_env[(env.record_id, env.vv_text, env.ciphertext)] = raw

    def prime(self, envelopes: list[Envelope]) -> None:
        """Remember these envelopes' bytes (a store just re-encrypted in place: the snapshot the
        removing device wrote holds exactly these bytes, so reading it parses nothing again)."""
        for env in envelopes:
            self._remember(env.to_bytes(), env)

    def pack(self, envelopes: list[Envelope]) -> bytes:
        """Same bytes as vault.envelope.pack_envelopes."""
        self._prune(len(envelopes))
        parts: list[bytes] = []
        for env in envelopes:
            raw = self._raw_by_env.get((env.record_id, env.vv_text, env.ciphertext))
            if raw is None:
                raw = env.to_bytes()
                self._remember(raw, env)
            parts.append(struct.pack(">I", len(raw)))
            parts.append(raw)
        return b"".join(parts)

    def unpack(self, data: bytes) -> list[Envelope]:
        """Same result and errors as vault.envelope.unpack_envelopes (one bad envelope fails all)."""
        envs, refused = self.unpack_each(data, "folder")
        if refused:
            raise FormatError(f"an envelope in the list is refused ({refused[0].reason})")
        return envs

    def unpack_each(self, data: bytes, source: str) -> tuple[list[Envelope], list[Refusal]]:
        """The envelopes of a packed list, each through the one gate's parse (vault/intake.py):
        one that does not parse or breaks a bound is refused, with its bytes, and the rest go on.
        Only broken framing (the list itself: truncated, a length past the end) is FormatError,
        since nothing after it can be found."""
        envs: list[Envelope] = []
        refused: list[Refusal] = []
        for raw in split_envelopes(data):
            env = self._env_by_raw.get(raw)
            if env is None:
                good, bad = intake.parse([raw], source)
                refused += bad
                if not good:
                    continue
                env = good[0]
                self._remember(raw, env)
            envs.append(env)
        self._prune(len(envs))
        return envs, refused


def encode(
    header: MssbHeader, keys: UnlockedKeys, envelopes: list[Envelope], codec: Codec | None = None
) -> bytes:
    """Seal all versions under the file's header."""
    body = (codec or Codec()).pack(envelopes)
    return seal_container(MAGIC, VERSION, header.to_obj(), body, keys.subkey(SUBKEY))


def parse(data: bytes, name: str = FILE_NAME) -> tuple[MssbHeader, Container]:
    """Split and check the public part (no key needed); typed SyncError on bad bytes."""
    c = parse_sealed(data, MAGIC, VERSION, name)
    try:
        return MssbHeader.from_obj(c.header), c
    except NotASyncFileError:
        raise NotASyncFileError(f"{name} has a damaged header") from None


def parse_sealed(data: bytes, magic: bytes, version: int, name: str) -> Container:
    """A folder file's container, each failure said once with the file's name."""
    try:
        return parse_container(data, magic, version, "sync file")
    except UnsupportedVersionError:
        found = data[len(magic)]
        if found > version:
            raise SyncFileVersionError(
                f"{name} was written by a newer Strongroom (format {found}); update Strongroom"
            ) from None
        raise NotASyncFileError(f"{name} is damaged (unknown format {found})") from None
    except FormatError as exc:
        if not data.startswith(magic) or len(data) < len(magic) + 5:
            raise NotASyncFileError(f"{name} is not a Strongroom sync file") from None
        reason = str(exc).replace("sync file ", "").replace("sync file", "")
        raise NotASyncFileError(f"{name} is damaged ({reason.strip()})") from None


def check_for(
    header: MssbHeader, account_id: str, generation: int, epoch: int, name: str = FILE_NAME
) -> None:
    """Can a device on (account, generation, epoch) merge this file? Raise the exact reason if not."""
    if header.account_id != account_id:
        raise ForeignSyncFileError(
            f"{name} belongs to account {header.account_id}, not to this account ({account_id})"
        )
    if header.generation < generation:
        raise ObsoleteSyncFileError(
            f"{name} is obsolete: it was written before the account was reset (generation {header.generation})"
        )
    if header.generation > generation:
        raise FolderAccountResetError(
            "the account was reset on another device: sign in again with the new password and Kit"
        )
    if header.epoch > epoch:
        raise FolderPasswordChangedError(
            "the Account Password was changed on another device: enter the new password to keep syncing"
        )


def read_for(
    data: bytes, keys: UnlockedKeys, name: str = FILE_NAME, codec: Codec | None = None
) -> tuple[MssbHeader, list[Envelope]]:
    """Parse, check and open a file for the unlocked account `keys` belongs to.

    Authenticates before trusting the epoch (VK survives a password change, so a newer-epoch
    file of this generation still opens): a flipped header byte is NotASyncFileError, never a
    false "password changed elsewhere". Obsolete / newer generations cannot be authenticated
    with our VK and are reported from the header alone.
    """
    header, envelopes = open_snapshot(data, keys, name, codec)
    check_for(header, keys.account_id, keys.generation, keys.epoch, name)
    return header, envelopes


def open_snapshot(
    data: bytes,
    keys: UnlockedKeys,
    name: str = FILE_NAME,
    codec: Codec | None = None,
    refused: list[Refusal] | None = None,
) -> tuple[MssbHeader, list[Envelope]]:
    """Parse and authenticate a snapshot (or a copy); the epoch is left to the caller.

    `refused`: an envelope inside that does not parse or breaks a bound is added there (for the
    store's quarantine) and the others are returned; without it, the file is corrupt as a whole.

    A file that names our key id (`kid`) was sealed with our VK: it must open, and if it does not,
    any header claim in it (generation, epoch, account) is an alteration, never a reset. Only a
    file under another key speaks for a reset (newer generation) or is obsolete (older). A layout-1
    file (no `kid`) claiming another generation is tried once with our generation put back.
    """
    header, container = parse(data, name)
    ours = key_id(keys)
    if header.kid is not None and header.kid != ours:
        if header.account_id != keys.account_id:
            check_for(header, keys.account_id, keys.generation, 2**62, name)
        if header.generation != keys.generation:
            check_for(header, keys.account_id, keys.generation, 2**62, name)
        raise FolderFileAlteredError(
            f"{name} was altered: it claims this account and generation but is not sealed with "
            "this account's key"
        )
    if header.kid is None and header.generation != keys.generation:
        if header.account_id == keys.account_id and _opens_as_generation(
            container, keys, keys.generation
        ):
            raise FolderFileAlteredError(
                f"{name} was altered: its generation was changed (the file is this account's, "
                "sealed before the change); this is not an account reset"
            )
        check_for(header, keys.account_id, keys.generation, 2**62, name)
    try:
        body = Sealer(keys.subkey(SUBKEY)).open(container.sealed_body, container.prefix, WHAT)
    except TamperError:
        if header.kid is not None or header.account_id == keys.account_id:
            raise FolderFileAlteredError(
                f"{name} was altered or damaged: it does not open with this account's key "
                "(authentication failed)"
            ) from None
        check_for(header, keys.account_id, keys.generation, 2**62, name)
        raise
    envelopes = unpack_body(body, name, codec, refused)
    check_for(header, keys.account_id, keys.generation, 2**62, name)
    return header, envelopes


def unpack_body(
    body: bytes, name: str, codec: Codec | None = None, refused: list[Refusal] | None = None
) -> list[Envelope]:
    """The envelopes of an authenticated body; broken framing is NotASyncFileError. An envelope
    that does not parse is added to `refused` when given (the rest go on), else the whole body
    is corrupt."""
    try:
        if refused is None:
            return (codec or Codec()).unpack(body)
        envelopes, bad = (codec or Codec()).unpack_each(body, "folder")
    except FormatError as exc:
        raise NotASyncFileError(f"{name} is corrupt ({exc})") from None
    refused += bad
    return envelopes


def _opens_as_generation(container: Container, keys: UnlockedKeys, generation: int) -> bool:
    """Does the body open once the header says `generation` (was only the generation edited)?"""
    obj = dict(container.header)
    obj["gen"] = generation
    hbytes = encode_header(obj)
    prefix = MAGIC + bytes([VERSION]) + struct.pack(">I", len(hbytes)) + hbytes
    try:
        Sealer(keys.subkey(SUBKEY)).open(container.sealed_body, prefix, WHAT)
    except TamperError:
        return False
    return True


def read_header(path: Path) -> MssbHeader | None:
    """The snapshot's header without reading its body (a cheap, *unauthenticated* look, e.g.
    before a password change); None when absent or unreadable."""
    try:
        with path.open("rb") as f:
            head = f.read(len(MAGIC) + 5)
            if len(head) < len(MAGIC) + 5 or not head.startswith(MAGIC):
                return None
            (hlen,) = struct.unpack_from(">I", head, len(MAGIC) + 1)
            if hlen > 64 * 1024:
                return None
            raw = f.read(hlen)
        return MssbHeader.from_obj(safejson.loads(raw))
    except (OSError, ValueError, NotASyncFileError):
        return None


def open_body(container: Container, keys: UnlockedKeys, name: str = FILE_NAME) -> bytes:
    """Authenticate and decrypt the body; a changed byte anywhere is NotASyncFileError."""
    try:
        return Sealer(keys.subkey(SUBKEY)).open(container.sealed_body, container.prefix, WHAT)
    except TamperError:
        raise NotASyncFileError(
            f"{name} is damaged or was changed by someone else (authentication failed)"
        ) from None


def decrypt(
    container: Container,
    keys: UnlockedKeys,
    name: str = FILE_NAME,
    codec: Codec | None = None,
    refused: list[Refusal] | None = None,
) -> list[Envelope]:
    """Open and unpack the body; a changed byte anywhere is NotASyncFileError (`refused`: as
    open_snapshot)."""
    return unpack_body(open_body(container, keys, name), name, codec, refused)


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SourceUnavailableError(f"cannot read {path}: {exc.strerror or exc}") from None


_ANY = b"\0any"


def write_atomic(
    path: Path, data: bytes, verify: Callable[[bytes], None], expected: bytes | None = _ANY
) -> None:
    """Temp file in the same folder + fsync, re-read and verify, then rename and fsync the folder.

    A save that does not read back as a good file never replaces the old one. With `expected`
    (the bytes read before merging, None = no file), the target is re-read just before the
    rename; if another writer replaced it meanwhile, FileChangedWhileWritingError is raised and
    nothing is replaced, so the caller merges their write instead of overwriting it.
    """

    def unchanged() -> None:
        if expected != _ANY and read_bytes(path) != expected:
            raise FileChangedWhileWritingError(
                f"{path.name} was replaced by another device while saving"
            )

    try:
        write_private_atomic(path, data, verify=verify, before_replace=unchanged)
    except OSError as exc:
        raise SourceUnavailableError(f"cannot write {path}: {exc.strerror or exc}") from None


def retire_obsolete(path: Path, generation: int) -> Path:
    """Rename an obsolete file aside (never merged, never deleted)."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    target = path.with_name(f"data.obsolete-{generation}-{stamp}.mssb")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"data.obsolete-{generation}-{stamp}-{n}.mssb")
    os.replace(path, target)
    return target


def adopt_new_epoch(
    vault: Any, path: Path, new_password: str, kit: KitPayload | None = None
) -> KeySlot:
    """Follow a password change made on another device: VK from the file's slot, new local slot.

    Needs this account's AK: from the unlocked vault, else from `kit` (the new Kit) or an
    `account.key` next to the file. Raises WrongPasswordError if `new_password` does not fit.
    """
    data = read_bytes(path)
    if data is None:
        raise SourceUnavailableError(f"no sync file at {path}")
    header, container = parse(data)
    slot: KeySlot = vault.slot
    if header.account_id != slot.account_id:
        raise ForeignSyncFileError(f"{FILE_NAME} belongs to account {header.account_id}")
    if header.generation != slot.generation:
        check_for(header, slot.account_id, slot.generation, slot.epoch)
    if kit is None and not vault.unlocked:
        from . import folderkey

        try:
            kit = folderkey.read(path.parent / folderkey.FILE_NAME)
        except folderkey.DamagedAccountKeyError:
            kit = None
    if kit is not None:
        keymod.check_kit_against(kit, header.account_id, header.generation, header.epoch)
        ak, k_pw = keymod.open_account_key(kit, new_password)
    elif vault.unlocked:
        ak = vault.keys.ak
        k_pw = kdf.derive_password_key(new_password, header.salt, header.params)
    else:
        raise LockedError(
            "unlock with the previous password (or give the new Kit) to adopt the new password"
        )
    try:
        keys = keymod.open_vault_key(header.unsigned_kit(), ak, k_pw, header.wrapped_vk)
    except KitError:
        raise WrongPasswordError(
            "the new Account Password does not open this account's sync file"
        ) from None
    decrypt(container, keys)  # the file really is this account's
    new_kit = keymod.seal_kit(
        header.account_id, header.generation, header.epoch, header.params, header.salt, ak, k_pw
    )
    new_slot = KeySlot(slot.email, new_kit, header.wrapped_vk, slot.hint)
    vault.replace_slot(new_slot, keys)
    return new_slot
