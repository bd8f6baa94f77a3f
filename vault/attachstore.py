"""A record's files: add, list, read, remove (the CLI's `attach` and the app's record view).

The bytes are encrypted into a blob in this device's `HOME/blobs/` before the record learns of the
file, so a record never names a blob that was not completely written here. Removing a file from a
record keeps its blob: history, trash and other devices' versions may still name it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from . import attachments as fmt
from .attachments import Attachment
from .blobs import BlobDir
from .errors import AmbiguousError, InvalidInputError, NotFoundError, TamperError, VaultError
from .records import now

if TYPE_CHECKING:
    from .keys import UnlockedKeys
    from .vault import Vault

#: Per-file limit unless the setting `attachment_max_mb` says otherwise.
DEFAULT_MAX_MB = 256
#: The highest value either size setting takes (MiB): 64 GiB.
HIGHEST_MAX_MB = 65536
BLOBS = "blobs"


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
    att = find(vault, record_id, name)
    vault.edit(
        record_id,
        lambda r: replace(r, attachments=tuple(a for a in r.attachments if a.id != att.id)),
    )
    return att


def referenced(records: Any) -> dict[str, Attachment]:
    """Blob name → attachment for every file the given records carry."""
    return {a.blob: a for r in records for a in r.attachments}


def _mb(n: int) -> str:
    """A size as people read it: MiB with one decimal, bytes below a tenth of one (a 6-byte
    file over a 0 MiB limit read '0.0 MiB; at most 0.0 MiB')."""
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 // 10 else f"{n:,} bytes"
