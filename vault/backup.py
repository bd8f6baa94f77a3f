"""Encrypted backups: one self-contained file that opens only with the password in force when made.

A sealed container (`vault/container.py`) with magic `SRBK`, version 1. The public header holds
the account id, generation, epoch, creation time, record count and the *key slot as it was*
(Kit payload + VK wrapped under K_unlock), so restoring needs that password and nothing else —
not this device, not the current Kit. The body is every stored version (`pack_envelopes`) sealed
under VK's "backup" sub-key; the header is associated data, so any edited byte fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from . import keys as keymod
from .attachments import Attachment
from .backupblobs import restore_section, verify_section, write_section
from .blobs import BlobDir
from .container import MAX_HEADER, Container, open_container, parse_container, seal_container
from .crypto import NONCE_LEN, TAG_LEN
from .durable import write_private_streamed
from .envelope import Envelope, RecordCipher, pack_envelopes, unpack_envelopes
from .errors import (
    FormatError,
    InvalidInputError,
    KitError,
    TamperError,
    WrongPasswordError,
)
from .kdf import KdfParams
from .keys import KeySlot, UnlockedKeys
from .merge import RecordState, next_version, state
from .records import HistoryEntry, Record, Version, bare, merge_versions, same_content
from .vault import Vault
from .words import plural

MAGIC = b"SRBK"
VERSION = 1
#: Version 2: attachment blobs after the sealed body (vault/backupblobs.py); written only when the
#: device holds attachment blobs, so a backup without files stays version 1.
VERSION_BLOBS = 2
WHAT = "backup"
SUBKEY = "backup"
MAX_BACKUP = 2 * 1024**3


@dataclass(frozen=True)
class BackupHeader:
    """The public part: readable without the password, bound to the body as associated data.

    The KDF parameters and salt are not separate fields: they travel inside the slot's Kit payload,
    which is exactly what `keys.unlock` needs, so there is one source of truth for them.
    """

    account_id: str
    generation: int
    epoch: int
    created: float
    count: int
    slot: KeySlot

    @property
    def params(self) -> KdfParams:
        return self.slot.kit.params

    @property
    def salt(self) -> bytes:
        return self.slot.kit.salt

    def to_obj(self) -> dict[str, Any]:
        return {
            "account": self.account_id,
            "gen": self.generation,
            "epoch": self.epoch,
            "created": self.created,
            "count": self.count,
            "slot": self.slot.to_bytes().decode(),
        }

    @classmethod
    def from_obj(cls, o: dict[str, Any]) -> BackupHeader:
        try:
            slot = KeySlot.from_bytes(str(o["slot"]).encode())
            h = cls(
                str(o["account"]),
                int(o["gen"]),
                int(o["epoch"]),
                float(o["created"]),
                int(o["count"]),
                slot,
            )
        except (KeyError, TypeError, ValueError, KitError, FormatError) as exc:
            # FormatError includes an odd key-slot version: inside a v1 backup that is damage, too
            raise FormatError("the backup's header is damaged") from exc
        if (h.account_id, h.generation, h.epoch) != (slot.account_id, slot.generation, slot.epoch):
            raise FormatError("the backup's header is inconsistent (edited?)")
        return h


@dataclass(frozen=True)
class RestoreReport:
    """What a restore did: records brought back, records edited on both sides (newer kept, the other
    version in history), records already as in the backup, and backup records that were undecryptable."""

    restored: int
    kept_newer: int
    unchanged: int
    skipped: int = 0

    def summary(self) -> str:
        """One sentence for a person (the CLI's stderr, the app's notification)."""
        text = (
            f"Restored {plural('record', self.restored)}; {self.kept_newer} edited since the backup "
            "kept their newer version (the backup's is in their history); "
            f"{self.unchanged} unchanged."
        )
        if self.skipped:
            text += (
                f" {plural('record', self.skipped)} in the backup could not be decrypted and "
                + ("was skipped." if self.skipped == 1 else "were skipped.")
            )
        return text


def encode_backup(
    slot: KeySlot,
    keys: UnlockedKeys,
    envelopes: list[Envelope],
    created: float,
    blobs: int = 0,
) -> bytes:
    """The container (version 1; version 2 when `blobs` attachment blobs follow it)."""
    live = len(  # the user's records: device entries (vault/devices.py) are not counted
        {e.record_id for e in envelopes if not e.deleted and not e.record_id.startswith("device-")}
    )
    header = BackupHeader(slot.account_id, slot.generation, slot.epoch, created, live, slot)
    body = pack_envelopes(envelopes)
    if not blobs:
        return seal_container(MAGIC, VERSION, header.to_obj(), body, keys.subkey(SUBKEY))
    extra = {"body": len(body) + NONCE_LEN + TAG_LEN, "blobs": blobs}
    return seal_container(MAGIC, VERSION_BLOBS, header.to_obj() | extra, body, keys.subkey(SUBKEY))


def create_backup(vault: Vault, path: Path) -> int:
    """Write every stored version and every attachment blob on this device atomically (temp +
    fsync + read back and verify + rename + folder fsync), owner-only, so a crash leaves either the
    old file or the complete new one. Blobs are streamed, never whole in memory. Returns the
    number of live records."""
    from .attachstore import blob_dir

    envelopes = vault.store.all_versions()
    blobs = blob_dir(vault)

    def fill(out: BinaryIO) -> None:
        out.write(data)
        write_section(out, blobs, names)

    def verify(tmp: Path) -> None:
        with open(tmp, "rb") as f:
            _verify(f.read(len(data)), data, vault.keys)
            verify_section(f, len(names))

    try:
        with blobs.reading():  # no blob listed here is collected before it is written
            names = sorted(blobs.names())
            data = encode_backup(vault.slot, vault.keys, envelopes, time.time(), len(names))
            write_private_streamed(path, fill, verify=verify)
    except OSError as exc:
        raise InvalidInputError(
            f"cannot write the backup to {path}: {exc.strerror or exc}"
        ) from None
    return len({e.record_id for e in envelopes if not e.deleted})


def _verify(written: bytes, data: bytes, keys: UnlockedKeys) -> None:
    """Re-read and open the file before it replaces anything: a bad write must never replace a good
    backup (the KeePassXC lesson, DESIGN "data.mssb")."""
    if written != data:
        raise InvalidInputError(
            "the backup did not read back as written (disk or file system error); "
            "nothing was replaced"
        )
    open_container(parse_backup(written)[1], keys.subkey(SUBKEY), WHAT)


def parse_backup(data: bytes) -> tuple[BackupHeader, Container]:
    """The public part (no password needed): which account, when, how many records. `data` may
    be the whole file or (version 2) anything from its start through the sealed body."""
    version = data[len(MAGIC)] if len(data) > len(MAGIC) and data.startswith(MAGIC) else VERSION
    c = parse_container(data, MAGIC, version if version == VERSION_BLOBS else VERSION, WHAT)
    if c.version == VERSION_BLOBS:
        body, blobs = c.header.get("body"), c.header.get("blobs")
        if not isinstance(body, int) or not isinstance(blobs, int) or body < 0 or blobs < 1:
            raise FormatError("the backup's header is damaged")
        c = replace(c, sealed_body=c.sealed_body[:body])
    return BackupHeader.from_obj(c.header), c


def blob_count(c: Container) -> int:
    return int(c.header.get("blobs", 0)) if c.version == VERSION_BLOBS else 0


def open_backup(data: bytes, password: str) -> tuple[BackupHeader, UnlockedKeys, list[Envelope]]:
    header, c = parse_backup(data)
    try:
        keys = keymod.unlock(header.slot, password)
    except WrongPasswordError:
        made = time.strftime("%Y-%m-%d %H:%M", time.gmtime(header.created))
        raise WrongPasswordError(
            f"wrong password for this backup: it opens with the Account Password in force when it was made "
            f"({made} UTC)"
        ) from None
    except KitError:
        raise TamperError("the backup's keys are damaged") from None
    body = open_container(c, keys.subkey(SUBKEY), WHAT)
    return header, keys, unpack_envelopes(body)


def _head_and_body(path: Path) -> bytes:
    """The file from its start through the sealed body: all of a version 1 file; a version 2
    file's attachment section is left on disk (streamed by the restore)."""
    with path.open("rb") as f:
        head = f.read(MAX_HEADER + 9)
        if head[len(MAGIC) : len(MAGIC) + 1] != bytes([VERSION_BLOBS]):
            return head + f.read()
        prefix_len = len(MAGIC) + 5 + int.from_bytes(head[len(MAGIC) + 1 : len(MAGIC) + 5], "big")
        f.seek(0)
        prefix = f.read(prefix_len)
        body = parse_container(prefix, MAGIC, VERSION_BLOBS, WHAT).header.get("body")
        if not isinstance(body, int) or body < 0:
            raise FormatError("the backup's header is damaged")
        return prefix + f.read(body)


def read_backup(path: Path, password: str) -> tuple[BackupHeader, UnlockedKeys, list[Envelope]]:
    try:
        if path.stat().st_size > MAX_BACKUP:
            raise FormatError(f"{path} is too large to be a Strongroom backup")
        data = _head_and_body(path)
    except FileNotFoundError:
        raise InvalidInputError(f"no backup file at {path}") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{path} is a folder, not a backup file") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read the backup {path}: {exc.strerror or exc}") from None
    return open_backup(data, password)


def _files(record: Record) -> Iterator[Attachment]:
    """The files a record names now and in its kept versions (restoring a version brings its files
    back, so their bytes must come back with a restore too)."""
    yield from record.attachments
    for version in record.versions:
        yield from version.snapshot.attachments


def verify_blobs(path: Path) -> None:
    """A version 2 backup's attachment section read through before anything is restored: every
    entry whole, carrying its name, and nothing after the last (a truncated or changed file is
    refused with nothing written)."""
    data = _head_and_body(path)
    count = blob_count(parse_backup(data)[1])
    if not count:
        return
    with path.open("rb") as f:
        f.seek(len(data))
        verify_section(f, count)


def restore_blobs(
    keys: UnlockedKeys, home: Path, path: Path, records: Callable[[], Iterable[Record]]
) -> int:
    """Copy the attachment blobs of a version 2 backup that `records()` name (now or in a kept
    version) into the blob folder of `home`, each once it opens in full under its record's key;
    returns how many were new here. Run before any record is written: a blob that fails leaves
    the vault as it was (blobs are named by their content, so one kept early harms nothing)."""
    from .attachstore import BLOBS, checker_for

    with path.open("rb") as f:
        if f.read(len(MAGIC) + 1)[len(MAGIC) :] != bytes([VERSION_BLOBS]):
            return 0
    data = _head_and_body(path)
    count = blob_count(parse_backup(data)[1])
    wanted = {a.blob: checker_for(keys, a) for r in records() for a in _files(r)}
    if not count or not wanted:
        return 0
    with path.open("rb") as f:
        f.seek(len(data))
        return restore_section(f, count, BlobDir(home / BLOBS), wanted)


def backup_records(
    header: BackupHeader, keys: UnlockedKeys, envelopes: list[Envelope]
) -> list[Record]:
    """The live records of a backup (each record's winning version); undecryptable ones are left out."""
    return _open_all(header, keys, _winners(envelopes).values())[0]


def _winners(envelopes: list[Envelope]) -> dict[str, Envelope]:
    by_id: dict[str, list[Envelope]] = {}
    for env in envelopes:
        by_id.setdefault(env.record_id, []).append(env)
    return {rid: state(versions).winner for rid, versions in by_id.items()}


def _open_all(
    header: BackupHeader, keys: UnlockedKeys, winners: Iterable[Envelope]
) -> tuple[list[Record], int]:
    """Live records plus how many could not be decrypted (damaged before the backup was made:
    the file as a whole is authenticated, so these are skipped rather than failing the restore)."""
    cipher = RecordCipher(header.account_id, keys.subkey("records"))
    out, bad = [], 0
    for env in winners:
        try:
            rec = cipher.open(env)
        except (TamperError, FormatError):
            bad += 1
            continue
        if rec is not None:
            out.append(rec)
    return out, bad


def restore_into_new_home(home: Path, path: Path, password: str) -> tuple[Vault, int]:
    """A device with no account yet: becomes the backup's account with its records (key slot as it
    was when the backup was made; a later sync brings any newer password)."""
    header, keys, envelopes = read_backup(path, password)
    verify_blobs(path)
    restore_blobs(keys, home, path, lambda: backup_records(header, keys, envelopes))
    vault = Vault.adopt(home, header.slot, keys, envelopes, "backup")
    return vault, header.count


def _next(vault: Vault, st: RecordState | None, record: Record) -> Envelope:
    """`record` sealed exactly as given, as the next version of its id (dominating every current one).

    `Vault.update` would re-stamp it and rebuild its history from the current version only; a restore
    needs the history to hold *both* sides.
    """
    current = [st.winner, *st.others] if st is not None else []
    vv, hlc = next_version(current, vault.device)
    return vault.cipher.seal(record, record.id, vv, hlc, vault.device)


def _combine(current: Record, old: Record) -> Record | None:
    """The record after restoring `old` (the backup's version) over `current`; None = nothing to do.

    The newer of the two (by last edit) stays current; the other one's differing fields go to history,
    and the backup's own history entries are kept too. Entries already present are not added again,
    so restoring the same backup twice changes nothing.
    """
    newer, other = (old, current) if old.modified > current.modified else (current, old)
    history = list(current.history)
    history += [h for h in old.history if h not in current.history]
    history.sort(key=lambda h: h.modified)
    diff = tuple(f for f in other.fields if newer.value(f.name) != f.value)
    known = {(h.modified, h.fields) for h in history}  # an entry's end time may or may not be kept
    if diff and (other.modified, diff) not in known:
        history.append(HistoryEntry(other.modified, diff))
    versions = merge_versions(current.versions, old.versions)
    if not same_content(newer, other):
        versions = merge_versions(versions, (Version(other.modified, "", bare(other)),))
    # A restore brings back what was deleted: in the trash only when both sides are.
    trashed = newer.trashed if current.trashed is not None and old.trashed is not None else None
    merged = replace(newer, history=tuple(history), versions=versions, trashed=trashed)
    return None if merged == current else merged


def _content(rec: Record) -> Record:
    """What a person sees as the record, without its history and edit time."""
    return replace(rec, history=(), versions=(), modified=0.0)


def restore_backup(vault: Vault, path: Path, password: str) -> RestoreReport:
    """Bring back what the vault lacks or deleted; where both changed, the newer version stays current
    and the other one goes to the record's history. Everything is written in one transaction (all or
    nothing), and running it again changes nothing."""
    header, keys, envelopes = read_backup(path, password)
    if header.account_id != vault.slot.account_id:
        raise InvalidInputError(
            f"this backup belongs to account {header.account_id}, not to this account "
            f"({vault.slot.account_id})"
        )
    verify_blobs(path)
    states: dict[str, RecordState] = vault.states()
    # device entries are each device's own to write: a restore never brings one back (a removed
    # device stays removed)
    winners = {
        rid: env for rid, env in _winners(envelopes).items() if not rid.startswith("device-")
    }
    # the very same version is current here (the usual case on the device that made the backup): no
    # need to decrypt either side
    same = {rid for rid, env in winners.items() if rid in states and states[rid].winner == env}
    records, skipped = _open_all(
        header, keys, (env for rid, env in winners.items() if rid not in same)
    )
    writes: list[Envelope] = []
    restored = kept = 0
    unchanged = sum(1 for rid in same if not winners[rid].deleted)
    for rec in records:
        st = states.get(rec.id)
        try:
            current = vault.cipher.open(st.winner) if st is not None else None
        except (
            TamperError,
            FormatError,
        ):  # this device's copy is undecryptable: the backup's good one wins
            current = None
        if current is None:  # never here, deleted since, or undecryptable: it comes back
            writes.append(_next(vault, st, rec))
            restored += 1
            continue
        merged = _combine(current, rec)
        if merged is not None:
            writes.append(_next(vault, st, merged))
        if _content(current) == _content(rec):
            unchanged += 1
        else:
            kept += 1
    restore_blobs(keys, vault.home, path, lambda: backup_records(header, keys, envelopes))
    if writes:
        vault.apply(writes, "backup")
    return RestoreReport(restored, kept, unchanged, skipped)


def default_folder(home: Path) -> Path:
    """`HOME/backups`: backups made from the app and what a device kept when it met a reset."""
    return home / "backups"


def free_path(folder: Path, stem: str, suffix: str) -> Path:
    """`folder/stem.suffix`, or `stem-2`, `stem-3` … so an earlier file is never replaced."""
    path, n = folder / f"{stem}{suffix}", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}{suffix}"
    return path


def keep_as_backup(vault: Vault, folder: Path | None = None) -> Path:
    """A device that meets an account reset keeps what it held, encrypted (PRODUCT.md #7).

    Used by every sync method (cloud, folder). Unlocked: a backup file (restores with the password
    in force before the reset). Locked: a copy of the device's encrypted store. Never replaces an
    earlier file. Returns the path written.
    """
    folder = folder or default_folder(Path(vault.home))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stem = f"before-reset-gen{vault.slot.generation}-{time.strftime('%Y%m%d-%H%M%S')}"
    path = free_path(folder, stem, ".srbk" if vault.unlocked else ".db")
    if vault.unlocked:
        create_backup(vault, path)
        return path
    import sqlite3

    from .home import create_private_file

    create_private_file(path)  # 0600 before SQLite writes the copy into it
    src = sqlite3.connect(vault.store.path)
    dst = sqlite3.connect(path)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return path
