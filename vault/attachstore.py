"""A record's files: add, list, read, remove (the CLI's `attach` and the app's record view).

The bytes are encrypted into a blob in this device's `HOME/blobs/` before the record learns of the
file, so a record never names a blob that was not completely written here. Removing a file from a
record keeps its blob while any version held here still names it (the record's history, the trash,
a concurrent version); once none does, `collect_garbage` removes it from this device (never from a
sync folder or the account server: other devices' versions may still name it there).
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from . import attachments as fmt
from .attachments import Attachment
from .blobs import BlobDir
from .errors import (
    AmbiguousError,
    FormatError,
    InvalidInputError,
    NotFoundError,
    TamperError,
    VaultError,
)
from .records import Record, now

if TYPE_CHECKING:
    from .keys import UnlockedKeys
    from .vault import Vault

#: Per-file limit unless the setting `attachment_max_mb` says otherwise.
DEFAULT_MAX_MB = 256
#: The highest value either size setting takes (MiB): 64 GiB.
HIGHEST_MAX_MB = 65536
BLOBS = "blobs"
_HEX64 = re.compile(rb"[0-9a-f]{64}")
#: A blob written less than this long ago (seconds, by its mtime) is never collected: `add` seals
#: a file's blob before the edit that names it is saved (an import, a restore, a fetch likewise),
#: possibly in another process, so a young blob nothing names yet may be about to be named.
GC_MIN_AGE = 3600.0


class BlobMissingError(VaultError):
    """The record names a file whose bytes are not on this device yet (sync fetches them)."""

    def __init__(self, att: Attachment) -> None:
        super().__init__(
            f"the bytes of attachment {att.name!r} are not on this device yet; "
            "sync with a device or folder that has them"
        )
        self.attachment = att


def blob_dir(vault: Vault) -> BlobDir:
    return BlobDir(vault.home / BLOBS)


def max_mb(vault: Vault) -> int:
    """The largest file that may be added here (setting `attachment_max_mb`), in MiB."""
    return setting_mb(vault, "attachment_max_mb", DEFAULT_MAX_MB)


def max_bytes(vault: Vault) -> int:
    return max_mb(vault) * 1024 * 1024


def setting_mb(vault: Any, key: str, default: int) -> int:
    """A size setting in MiB; the default when it is missing or unusable (hand-edited)."""
    try:
        value = int(vault.settings().get(key, default))
    except (TypeError, ValueError):
        return default
    return value if 0 <= value <= HIGHEST_MAX_MB else default


def _k_att(vault: Vault) -> bytes:
    return vault.keys.subkey(fmt.SUBKEY)


def add(
    vault: Vault,
    record_id: str,
    path: Path,
    name: str | None = None,
    mirrors: Sequence[BlobDir] = (),
) -> Attachment:
    """Encrypt the file at `path` into a blob (streamed) and add it to the record; `mirrors`:
    blob folders given the same bytes in the same pass (a sync folder's: `BlobDir.new`)."""
    name = fmt.check_name(name if name is not None else path.name)
    with open_regular(path) as src:
        size = os.fstat(src.fileno()).st_size
        limit = max_bytes(vault)
        if size > limit and limit == 0:
            raise InvalidInputError(
                "files cannot be added here: the largest file setting is 0 MiB (change it with "
                "`strongroom attach settings --max-mb N` or in the app's Settings)"
            )
        if size > limit:
            raise InvalidInputError(
                f"{path.name} is {_mb(size)}; a file may be at most {_mb(limit)} here "
                "(change it with `strongroom attach settings --max-mb N` or in the app's Settings)"
            )
        vault.record(record_id)  # refuse an unknown record before the work
        att = seal(vault, src, size, name, mirrors)
    vault.edit(record_id, lambda r: replace(r, attachments=(*r.attachments, att)))
    return att


def open_regular(path: Path) -> BinaryIO:
    """`path` opened for reading when it is a regular file (a link to one too). A FIFO, a pipe
    (/dev/stdin) or a device has no size to seal up front: a FIFO waited for a writer forever,
    a pipe was read as 0 bytes and refused as 'got longer'."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens at once instead of waiting
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InvalidInputError(
            f"{path} is not a regular file (a pipe, a device or a socket); "
            "save it to a file first and add that"
        )
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def seal(
    vault: Vault, src: BinaryIO, size: int, name: str, mirrors: Sequence[BlobDir] = ()
) -> Attachment:
    """Encrypt `size` bytes of `src` into a new blob of this device: the Attachment a record may
    then name (`add`, and an import's files)."""
    account, att_id, file_key = vault.keys.account_id, fmt.new_attachment_id(), os.urandom(32)
    with blob_dir(vault).new(mirrors) as w:
        w.name = fmt.encrypt(src, w, size, file_key, account, att_id)
    return Attachment(
        att_id, name, size, now(), w.name, fmt.wrap_key(_k_att(vault), account, att_id, file_key)
    )


def listed(vault: Vault, record_id: str) -> tuple[Attachment, ...]:
    return vault.record(record_id).attachments


def find(vault: Vault, record_id: str, name: str) -> Attachment:
    """The record's file named `name` (exactly, else case-insensitively), or with that id."""
    files = listed(vault, record_id)
    hits = [a for a in files if a.name == name or a.id == name] or [
        a for a in files if a.name.lower() == name.lower()
    ]
    if not hits:
        raise NotFoundError(f"the record has no attachment named {name!r}")
    if len(hits) > 1:
        raise AmbiguousError(
            f"{len(hits)} attachments are named {name!r}; give the id instead",
            [(a.id, a.name) for a in hits],
        )
    return hits[0]


def present(vault: Vault, att: Attachment) -> bool:
    return blob_dir(vault).has(att.blob)


def read(vault: Vault, att: Attachment, out: Any) -> None:
    """Write the file's bytes to `out` (a binary writer), chunk by chunk.

    The blob is first opened in full (its address, every chunk), so a changed blob is refused
    before a byte is written (a second AES-GCM pass, ~1 ms per MB); BlobMissingError when the
    bytes are not on this device."""
    blobs = blob_dir(vault)
    if not blobs.has(att.blob):
        raise BlobMissingError(att)
    file_key = fmt.unwrap_key(_k_att(vault), vault.keys.account_id, att)
    with blobs.open(att.blob) as src:
        try:
            fmt.check(src, att, file_key, vault.keys.account_id)  # in full, before any output
        except TamperError as exc:
            raise TamperError(f"attachment {att.name!r} failed authentication ({exc})") from None
        fmt.decrypt(src, att, file_key, vault.keys.account_id, out.write)


def checker(vault: Vault, att: Attachment) -> Callable[[BinaryIO], None]:
    """The check a received blob of `att` must pass before it is kept: it opens in full."""
    return checker_for(vault.keys, att)


def checker_for(keys: UnlockedKeys, att: Attachment) -> Callable[[BinaryIO], None]:
    """`checker` from the account's keys alone (a backup's blobs, before its vault exists)."""
    file_key = fmt.unwrap_key(keys.subkey(fmt.SUBKEY), keys.account_id, att)
    return lambda f: fmt.check(f, att, file_key, keys.account_id)


def save_to(vault: Vault, att: Attachment, path: Path) -> None:
    """The file written to `path` (0600) completely or not at all."""
    tmp = path.with_name(f".{path.name}.tmp-{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            read(vault, att, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def remove(vault: Vault, record_id: str, name: str) -> Attachment:
    """Take the file off the record; its blob goes once no version here names it (usually the
    record's history still does, until the retention prunes that version)."""
    att = find(vault, record_id, name)
    with vault.store.transaction():
        vault.edit(
            record_id,
            lambda r: replace(r, attachments=tuple(a for a in r.attachments if a.id != att.id)),
        )
        vault.blobs_released()  # collected once the edit commits
    return att


def named_blobs(vault: Vault) -> set[str] | None:
    """Every blob a version held in this device's store names: each record's files (live, in the
    trash, or a concurrent version in conflict) and those of every previous version its history
    keeps. None when a version cannot be read: what it names is unknown, so nothing may go.

    Each version is decrypted, never parsed unless it must be: one without the key `"att"` names
    no file; in one with it, every 64-hex-digit text counts (its files' blob names are such texts
    as they are; another, a pasted hash, only keeps more). One with a `\\u` escape (which could
    spell either) is parsed in full. 10,000 records: about 0.1 s.
    """
    cipher, named = vault.cipher, set[str]()
    for env in vault.store.live_versions():
        try:
            body = cipher.body(env)
            if b"\\u" in body:
                rec = Record.from_json(body)
                named.update(a.blob for a in rec.attachments)
                named.update(a.blob for v in rec.versions for a in v.snapshot.attachments)
            elif b'"att"' in body:
                named.update(m.decode() for m in _HEX64.findall(body))
        except (TamperError, FormatError):
            return None
    return named


#: store meta: when blobs were last released here (a purge, a file taken off, a prune), so the
#: sync places are asked to forget theirs at the next sync (sync/blobsync.py `tidy`)
RELEASED_META = "attachments.released"


def released_at(vault: Vault) -> float:
    """When a change here last left some blob named by nothing (0: never)."""
    try:
        return float(vault.store.get_meta(RELEASED_META) or b"0")
    except ValueError:
        return 0.0


def collect_garbage(
    vault: Vault, min_age: float = GC_MIN_AGE, only: Collection[str] | None = None
) -> tuple[int, int]:
    """Remove the blobs in this device's `HOME/blobs/` that no version held here names (see
    `named_blobs`) and that were written at least `min_age` seconds ago; returns (how many, their
    bytes). Only here: a sync folder's or the account server's copies stay, for other devices.

    Cheap when there is nothing to do: one listing of the folder (no blob is read); the store's
    versions are read only when some blob is old enough to go. Names are read and blobs removed in
    one write transaction, so no version naming one of them is saved meanwhile; a blob named again
    later by a version from another device is fetched again by the sync (sync/blobsync.py). Left
    for next time while a reader (a backup) holds the folder (`BlobDir.reading`), and when the
    vault is locked. Temp files are `BlobDir.sweep`'s. Call it with no transaction open
    (`Vault.blobs_released` waits for the commit). `only`: look at these blobs alone (those a sync
    place just forgot, which are older than its grace period: sync/blobsync.py `tidy`)."""
    if vault.store.in_transaction:
        raise VaultError("collect_garbage runs outside a transaction (use Vault.blobs_released)")
    if not vault.unlocked:
        return 0, 0
    blobs = blob_dir(vault)
    old = blobs.older_than(time.time() - min_age)
    if only is not None:
        old = {name: st for name, st in old.items() if name in only}
    if not old:
        return 0, 0
    count = size = 0
    with blobs.collecting() as free:
        if not free:
            return 0, 0
        with vault.store.transaction():
            named = named_blobs(vault)
            if named is None:
                return 0, 0
            for name in sorted(old.keys() - named):
                try:
                    if blobs.remove_if_unchanged(name, old[name]):
                        count, size = count + 1, size + old[name].st_size
                except OSError:
                    continue
    return count, size


def referenced(records: Any) -> dict[str, Attachment]:
    """Blob name → attachment for every file the given records carry."""
    return {a.blob: a for r in records for a in r.attachments}


def _mb(n: int) -> str:
    """A size as people read it: MiB with one decimal, bytes below a tenth of one (a 6-byte
    file over a 0 MiB limit read '0.0 MiB; at most 0.0 MiB')."""
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 // 10 else f"{n:,} bytes"
