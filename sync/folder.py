"""Folder sync (Dropbox, iCloud Drive, Syncthing, a network share), layout 2: a snapshot plus
small change files per account (docs/design.md "Folder sync, layout 2").

`<folder>/<AccountID>/data.mssb` is the snapshot (sync/mssb.py, still readable by a Strongroom
that knows only data.mssb); `<AccountID>/changes/*.mslog` are immutable change files
(sync/folderlog.py). `FolderSync(vault, folder).sync_now()` reads only what is new (the snapshot
when it was replaced, change files it has not read), merges it, then publishes what the folder
lacks as one new change file — or compacts: a new snapshot of everything, after which the change
files it folded are deleted. What this device knows of the folder is in sync/folderstate.py.

API for the CLI / TUI (the vault must be unlocked):

    sync = FolderSync(vault, Path(folder))   # keep one per device: it remembers parsed envelopes
    report = sync.sync_now()                 # FolderReport: received, wrote, compacted, problems,
                                             # merged_copies, retired, bytes_read, bytes_written, …
    sync.fingerprint()                       # stat-only summary of the folder (the watcher's check)
    sync.wrote(path)                         # True for a file this device wrote (its stat matches)
    vault = bootstrap_from_folder(home, folder, email, password, kit)   # kit=None: the saved key
    sync.account_key_saved / sync.save_account_key(on)   # opt-in account.key (sync/folderkey.py)
    check_slot_current(vault, folder)        # before a password change: refuse if the folder
                                             # already carries another one (compare-and-swap)
    reset_backup_of(home)                    # what a device kept when it met a reset elsewhere
    FolderWatcher(sync, on_change=...)       # live updates: sync/watch.py
    mssb.adopt_new_epoch(vault, path, new_password)   # after FolderPasswordChangedError

Errors (all SyncError; the local vault is left untouched): SourceUnavailableError (folder
missing/unreadable), ForeignSyncFileError, SyncFileVersionError (newer Strongroom),
mssb.FolderPasswordChangedError (also vault EpochChangedError: ask for the new password),
FolderSlotConflictError (one of those: this device's own password change came second and is
refused), mssb.FolderAccountResetError (also GenerationChangedError: sign in again; this device's
records were first kept as an encrypted backup), folderkey.NoSavedAccountKeyError and
DamagedAccountKeyError (sign-in without a Kit). A damaged or altered file is not an error: it is
set aside (`data.damaged-<time>.mssb`, `changes/<name>.damaged`), reported in `report.problems` and
`sync status`, and the device compacts (the repair). An obsolete snapshot (older generation) is
renamed `data.obsolete-<gen>-<time>.mssb`. Conflicted copies (any provider's naming, see
sync/foldernames.py) are merged and renamed `….merged` (unreadable ones `….not-merged`). An iCloud
placeholder `.data.mssb.icloud` means "not downloaded yet", so nothing is written over it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from vault import keys as keymod
from vault import removal
from vault.durable import write_private_atomic
from vault.envelope import Envelope
from vault.errors import (
    FormatError,
    KitError,
    KitReason,
    TamperError,
    UnsupportedVersionError,
    VaultError,
    WrongPasswordError,
)
from vault.intake import Refusal
from vault.kdf import normalize_email
from vault.keys import KeySlot
from vault.kitcode import KitPayload
from vault.words import plural

from . import blobsync, folderkey, folderlog, mssb
from .errors import (
    ForeignSyncFileError,
    NotASyncFileError,
    ObsoleteSyncFileError,
    SourceUnavailableError,
    SyncError,
    SyncFileVersionError,
)
from .foldernames import (
    CHANGES,
    CONFLICT_COPY,
    DAMAGED_SUFFIX,
    PLACEHOLDER,
    change_file_name,
    is_change_file,
    is_snapshot_copy,
    is_sync_file,
)
from .folderstate import FolderState, Problem, Stat, stat_of

__all__ = [
    "CONFLICT_COPY",
    "FolderReport",
    "FolderSlotConflictError",
    "FolderSync",
    "bootstrap_from_folder",
    "check_slot_current",
    "is_sync_file",
    "reset_backup_of",
]

SEQ_KEY = "sync.folder.seq"
#: `<AccountID>/keys/`: key changes made by device removals (vault/removal.py)
KEYS_DIR = "keys"
RESET_BACKUP_KEY = "sync.folder.reset_backup"
#: store meta: how far records were looked at for attachment blobs to fetch (sync/blobsync.py)
BLOB_MARKER = "sync.folder.blobs"
#: store meta: when this device last asked the folder to forget blobs nothing names
TIDY_MARKER = "sync.folder.blobs.tidied"
STALE_TEMP = 3600.0  # seconds: a temp file this old is left by a writer that was killed
#: compact when the change files exceed max(MIN_COMPACT, snapshot / COMPACT_RATIO) bytes …
MIN_COMPACT = 256 * 1024
COMPACT_RATIO = 8
#: … or this many files
MAX_CHANGE_FILES = 512
#: while a layout-1 writer was seen this recently, every change is published by compacting
LEGACY_WINDOW = 14 * 86400.0

TODO_SNAPSHOT = (
    "it was set aside and this device wrote a new data.mssb from its records; sync your other "
    "devices so they add anything only they had, then delete the set-aside file"
)
TODO_CHANGE = (
    "it was set aside; the device that wrote it publishes its changes again after the next "
    "compaction; delete the set-aside file once your devices have synced"
)

VKey = tuple[str, str, bytes]


def _vkey(e: Envelope) -> VKey:
    """Versions by content too: one vector with two contents is two versions, never 'current'."""
    return (e.record_id, e.vv_text, e.ciphertext)


def _versions_key(envs: list[Envelope]) -> set[VKey]:
    return {_vkey(e) for e in envs}


class FolderSlotConflictError(mssb.FolderPasswordChangedError):
    """This device changed the password (or Account Key) while another device's change reached
    the folder first: ours is refused, the folder's is adopted (with its password), as the
    account server's epoch check does."""

    #: the CLI says why before it asks for the other device's password
    refused_change = True


@dataclass
class FolderReport:
    received: int = 0  # records whose state changed here
    wrote: bool = False
    compacted: bool = False
    merged_copies: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    #: files skipped this sync (damaged, altered, newer format): "<file>: <reason>; <what to do>"
    problems: list[str] = field(default_factory=list)
    waiting_for_download: bool = False
    #: stat-only fingerprint of the folder as this sync left it (FolderSync.fingerprint): the
    #: watcher compares it so that only someone else's write wakes a sync.
    file_digest: str | None = None
    #: the local change counter the folder is known to cover after this sync (published marker)
    local_seq: int = 0
    bytes_read: int = 0  # folder bytes read by this sync (the bench's figure)
    bytes_written: int = 0
    #: versions read from the folder that this sync refused (vault/intake.py)
    refused: int = 0
    #: attachment blobs sent to and fetched from the folder (sync/blobsync.py)
    blobs: blobsync.BlobReport = field(default_factory=blobsync.BlobReport)

    @property
    def detail(self) -> str:
        """What this sync did, in words (`sync now`, `sync serve`, the app)."""
        if self.waiting_for_download:
            return "the sync file is not downloaded yet (iCloud placeholder); try again shortly"
        if self.compacted:
            wrote = "snapshot written"
        elif self.wrote:
            wrote = "changes written"
        else:
            wrote = "folder already current"
        bits = [f"{plural('record', self.received)} updated here", wrote]
        if self.blobs.sent or self.blobs.received:
            bits.append(f"{plural('file', self.blobs.sent)} sent, {self.blobs.received} fetched")
        if self.merged_copies:
            bits.append(f"merged {plural('conflicted copy', len(self.merged_copies))}")
        bits.extend(self.problems)
        if self.refused:
            bits.append(
                f"refused {plural('version', self.refused)}: not sealed with this account's key, "
                "or malformed (nothing was lost; see `strongroom sync status`)"
            )
        return "; ".join(bits)


def _fingerprint(snap: Stat | None, changes: dict[str, int], copies: list[str]) -> str:
    text = repr((snap, sorted(changes.items()), sorted(copies)))
    return hashlib.sha256(text.encode()).hexdigest()


class FolderSync:
    #: a blob in the folder is kept at least this long after it came, however unnamed
    #: (sync/blobsync.py `tidy`)
    blob_grace_s: float = blobsync.FORGET_GRACE_S

    def __init__(self, vault: Any, folder: Path) -> None:
        self.vault = vault
        self.folder = folder
        # keep one FolderSync per device: repeated syncs reuse parsed envelopes
        self.codec = mssb.Codec()
        self._snapshot: dict[str, list[Envelope]] | None = None  # this store's versions, by record
        self._snapshot_seq = -1
        self._written: dict[str, Stat | None] = {}

    @property
    def account_dir(self) -> Path:
        return mssb.account_dir(self.folder, self.vault.slot.account_id)

    @property
    def path(self) -> Path:
        return mssb.file_path(self.folder, self.vault.slot.account_id)

    @property
    def changes_dir(self) -> Path:
        return self.account_dir / CHANGES

    def check_folder(self) -> None:
        if not self.folder.is_dir():
            raise SourceUnavailableError(
                f"the sync folder {self.folder} is missing (not mounted, moved or deleted?); "
                "reconnect it or choose another with `strongroom sync folder DIR`"
            )

    # -- what the watcher asks ------------------------------------------------------------------
    def wrote(self, path: Path) -> bool:
        """Is the file at `path` one this device wrote (and nobody replaced since)?"""
        key = str(path)
        return key in self._written and stat_of(path) == self._written[key]

    def fingerprint(self) -> str:
        """The folder as stats and names (no file is read): equal fingerprints, nothing new."""
        return _fingerprint(stat_of(self.path), self._list_changes(), self._copies())

    def _list_changes(self) -> dict[str, int]:
        """Change files to consider, name → size."""
        out: dict[str, int] = {}
        try:
            with os.scandir(self.changes_dir) as it:
                for entry in it:
                    if is_change_file(entry.name):
                        try:
                            if entry.is_file(follow_symlinks=False):
                                out[entry.name] = entry.stat(follow_symlinks=False).st_size
                        except OSError:
                            continue
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise SourceUnavailableError(
                f"cannot list {self.changes_dir}: {exc.strerror or exc}"
            ) from None
        return out

    def _copies(self) -> list[str]:
        try:
            return sorted(p.name for p in self.account_dir.iterdir() if is_snapshot_copy(p.name))
        except OSError:
            return []

    # -- one sync --------------------------------------------------------------------------------
    def sync_now(self) -> FolderReport:
        """Merge what is new in the folder into the store, then publish what the folder lacks.

        Raises SourceUnavailableError (folder gone), ForeignSyncFileError, SyncFileVersionError,
        FolderPasswordChangedError (FolderSlotConflictError) or FolderAccountResetError; in every
        case the local vault is untouched. Damaged files are skipped and reported, not raised.
        """
        self.check_folder()
        report = FolderReport()
        self.account_dir.mkdir(exist_ok=True)
        if not self.path.exists() and (self.account_dir / PLACEHOLDER).exists():
            report.waiting_for_download = True
            return report
        self._remove_stale_temps()
        self._follow_key_changes()
        remote_blobs = blobsync.FolderPlace(
            blobsync.folder_blobs(self.account_dir), self.blob_grace_s
        )
        blobsync.send(self.vault, remote_blobs, report.blobs)
        for attempt in range(5):  # another writer replaced data.mssb meanwhile: read it, again
            try:
                self._sync_once(report)
                break
            except mssb.FileChangedWhileWritingError:
                if attempt == 4:
                    raise
        blobsync.fetch(self.vault, remote_blobs, BLOB_MARKER, report.blobs)
        blobsync.tidy(self.vault, remote_blobs, TIDY_MARKER, report.blobs)
        report.problems.extend(f"attachment {p}" for p in report.blobs.problems)
        folderkey.refresh(self.folder, self.vault.slot.kit)
        self.vault.update_settings(last_sync=time.time(), last_sync_seq=self.vault.store.max_seq())
        return report

    def _sync_once(self, report: FolderReport) -> None:
        vault = self.vault
        store = vault.store
        keys = vault.keys
        state = FolderState.load(store)
        problems = [p for p in state.problems if (self.account_dir / p.file).exists()]
        local_fp = mssb.local_slot_fingerprint(vault.slot)
        seen: set[VKey] = set()  # versions the folder holds, as read by this sync
        incoming: list[Envelope] = []
        bad: list[Refusal] = []  # envelopes in the folder's files that do not even parse
        full = False  # a new snapshot: compare the whole store against the whole folder
        compact: str | None = None  # why this sync writes a snapshot
        header: mssb.MssbHeader | None = None

        snap = stat_of(self.path)
        retired = removal.retired_kids(vault)
        if snap is None:
            compact = "no snapshot"
        elif snap != state.snap:
            data = mssb.read_bytes(self.path)
            if data is None:
                raise mssb.FileChangedWhileWritingError("data.mssb went away while reading")
            report.bytes_read += len(data)
            try:
                if retired and _snapshot_kid(data) in retired:
                    # sealed under a key a device removal replaced: this device (which holds
                    # everything it had) writes the snapshot under the new key
                    raise _RetiredSnapshot

                header, envs = mssb.open_snapshot(data, keys, mssb.FILE_NAME, self.codec, bad)
            except _RetiredSnapshot:
                compact = "key change"
            except mssb.FolderAccountResetError:
                raise self._reset_elsewhere() from None
            except ObsoleteSyncFileError:
                gen = mssb.parse(data)[0].generation
                report.retired.append(mssb.retire_obsolete(self.path, gen).name)
                snap, compact = None, "obsolete snapshot"
            except (ForeignSyncFileError, SyncFileVersionError):
                raise
            except NotASyncFileError as exc:
                kept = self._set_aside(self.path, snap)
                problems.append(Problem(kept.name, str(exc), TODO_SNAPSHOT))
                report.problems.append(f"{exc}: {TODO_SNAPSHOT} ({kept.name})")
                snap, compact = None, "damaged snapshot"
            else:
                if self._check_slot(header, local_fp, state.base):
                    compact = "publish the key slot"
                full = True
                incoming.extend(envs)
                seen.update(_vkey(e) for e in envs)
                if header.fmt < 2:
                    state.legacy = time.time()
                    compact = compact or "layout-1 snapshot"
                elif header.legacy is not None:
                    state.legacy = max(state.legacy or 0.0, header.legacy)
        elif state.base is not None and state.base != local_fp:
            compact = "publish the key slot"  # changed here; the folder still has our base

        copies = self._merge_copies(report, incoming, seen, bad)
        if copies:
            compact = compact or "conflicted copies"

        listing = self._list_changes()
        for name in sorted(listing if full else set(listing) - state.read - state.skip):
            if name in state.skip:
                continue
            got, damaged = self._read_change(name, report, problems, state, bad)
            if got is None:
                if damaged:
                    compact = compact or "damaged change file"
                if not (self.changes_dir / name).exists():
                    listing.pop(name, None)
                continue
            incoming.extend(got)
            seen.update(_vkey(e) for e in got)
            state.read.add(name)
        state.read &= set(listing)
        state.skip &= set(listing)

        if full or compact:
            _, ours = self._ours()
            held = _versions_key(ours)
            incoming = [e for e in incoming if _vkey(e) not in held]
        report.received += self._apply(incoming, report, bad)
        if report.refused:  # a forged or damaged envelope: the folder is rewritten without it
            compact = compact or "refused versions"

        if full:
            published, ours = self._ours()
            missing = [e for e in ours if _vkey(e) not in seen]
        else:
            published = store.max_seq()  # read first: a write after it stays unpublished
            missing = [e for e in store.changes_since(state.published) if _vkey(e) not in seen]

        if compact is None and missing:
            legacy = state.legacy is not None and time.time() - state.legacy < LEGACY_WINDOW
            size = sum(listing.values()) + sum(len(e.ciphertext) + 256 for e in missing)
            limit = max(MIN_COMPACT, (snap[1] if snap else 0) // COMPACT_RATIO)
            if legacy:
                compact = "a layout-1 device reads this folder"
            elif size > limit or len(listing) + 1 > MAX_CHANGE_FILES:
                compact = "change files grew"

        if compact:
            published = self._compact(report, state, snap, listing, local_fp)
        else:
            if missing:
                self._write_change(report, state, missing, listing)
            if header is not None:
                state.snap = snap
                if header.slot_fingerprint == local_fp:
                    state.base = local_fp
        state.published = published
        state.problems = problems
        state.save(store)
        report.local_seq = published
        report.file_digest = _fingerprint(state.snap if compact else snap, listing, [])

    def _check_slot(self, header: mssb.MssbHeader, local_fp: str, base: str | None) -> bool:
        """Compare-and-swap of key slots: True when this device's own change is to be published.

        F = the folder's slot, L = ours, K = the slot we last saw in the folder (docs/design.md)."""
        folder_fp = header.slot_fingerprint
        if folder_fp == local_fp:
            return False
        mine = self.vault.slot.epoch
        if header.epoch > mine and base in (None, local_fp):
            raise mssb.FolderPasswordChangedError(
                "the Account Password was changed on another device: enter the new password to keep syncing"
            )
        if header.epoch < mine and base in (None, folder_fp):
            return True
        raise FolderSlotConflictError(
            "the Account Password (or Account Key) was also changed on another device, and that "
            "change reached the sync folder before this device's: this device's change was refused "
            "(the Kit saved for it no longer opens the account). Enter the password set on the "
            "other device to keep syncing"
        )

    def _read_change(
        self,
        name: str,
        report: FolderReport,
        problems: list[Problem],
        state: FolderState,
        bad: list[Refusal],
    ) -> tuple[list[Envelope] | None, bool]:
        """(versions, False), or (None, damaged?) when skipped: set aside, newer, other generation."""
        path = self.changes_dir / name
        data = mssb.read_bytes(path)
        if data is None:
            return None, False
        report.bytes_read += len(data)
        label = f"{CHANGES}/{name}"
        try:
            retired = removal.retired_kids(self.vault)
            return folderlog.decode(data, self.vault.keys, label, self.codec, bad, retired)[
                1
            ], False
        except (
            ForeignSyncFileError,
            folderlog.OtherGenerationChangeError,
            folderlog.RetiredKeyChangeError,
        ):
            state.skip.add(name)  # not this account's or generation's: never merged, never deleted
            return None, False
        except SyncFileVersionError as exc:
            todo = "update Strongroom on this device; it is read then"
            problems.append(Problem(label, str(exc), todo))
            report.problems.append(f"{exc}: {todo}")
            return None, False
        except NotASyncFileError as exc:
            try:
                kept = self._set_aside(path, stat_of(path))
            except mssb.FileChangedWhileWritingError:
                return None, True  # another device set it aside first
            rel = f"{CHANGES}/{kept.name}"
            problems.append(Problem(rel, str(exc), TODO_CHANGE))
            report.problems.append(f"{exc}: {TODO_CHANGE} ({rel})")
            return None, True

    def _set_aside(self, path: Path, expected: Stat | None) -> Path:
        """Rename a damaged file aside (never deleted: it may hold what no device has)."""
        if path.name == mssb.FILE_NAME:
            stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
            target = path.with_name(f"data.damaged-{stamp}.mssb")
            n = 1
            while target.exists():
                n += 1
                target = path.with_name(f"data.damaged-{stamp}-{n}.mssb")
        else:
            target = path.with_name(path.name + DAMAGED_SUFFIX)
        if stat_of(path) != expected:
            raise mssb.FileChangedWhileWritingError(f"{path.name} changed while reading")
        try:
            os.replace(path, target)
        except FileNotFoundError:
            raise mssb.FileChangedWhileWritingError(f"{path.name} went away") from None
        except OSError as exc:
            raise SourceUnavailableError(f"cannot rename {path}: {exc.strerror or exc}") from None
        return target

    def _apply(self, envelopes: list[Envelope], report: FolderReport, bad: list[Refusal]) -> int:
        """Merge versions read from the folder into the store, each only once it opens under the
        account's key (vault/intake.py; the rest, and `bad`, those that did not even parse, are
        kept aside and counted); returns records changed here."""
        if not envelopes and not bad:
            return 0
        took = self.vault.take_in(envelopes, "folder", bad)
        report.refused += len(took.refused)
        return len(took.changed)

    def _write_change(
        self,
        report: FolderReport,
        state: FolderState,
        missing: list[Envelope],
        listing: dict[str, int],
    ) -> None:
        """Publish `missing` as one new, immutable change file."""
        writer = str(self.vault.actor)
        name = change_file_name(writer, state.n, os.urandom(4).hex())
        data = folderlog.encode(self.vault.keys, writer, state.n, missing, self.codec)
        path = self.changes_dir / name

        def verify(written: bytes) -> None:
            if written != data:
                raise NotASyncFileError(
                    "a change file did not read back as written (disk or file system error)"
                )

        try:
            self.changes_dir.mkdir(exist_ok=True)
            write_private_atomic(path, data, verify=verify)
        except OSError as exc:
            raise SourceUnavailableError(f"cannot write {path}: {exc.strerror or exc}") from None
        self._written[str(path)] = stat_of(path)
        state.n += 1
        state.read.add(name)
        listing[name] = len(data)
        report.wrote = True
        report.bytes_written += len(data)

    def _compact(
        self,
        report: FolderReport,
        state: FolderState,
        expected: Stat | None,
        listing: dict[str, int],
        local_fp: str,
    ) -> int:
        """Write a snapshot of every version held here, then delete the change files it folds.

        The store holds the snapshot it replaces (merged now or earlier) and every change file
        read, so nothing the folder had is dropped. Returns the change counter it covers."""
        store = self.vault.store
        published, ours = self._ours()
        seq = int(store.get_meta(SEQ_KEY) or b"0") + 1
        legacy = state.legacy
        if legacy is not None and time.time() - legacy >= LEGACY_WINDOW:
            legacy = state.legacy = None
        header = mssb.header_for(
            self.vault.slot, self.vault.device, seq, kid=mssb.key_id(self.vault.keys), legacy=legacy
        )
        data = mssb.encode(header, self.vault.keys, ours, self.codec)

        def unchanged() -> None:
            if stat_of(self.path) != expected:
                raise mssb.FileChangedWhileWritingError(
                    f"{mssb.FILE_NAME} was replaced by another device while saving"
                )

        try:
            write_private_atomic(
                self.path, data, verify=partial(self._verify, data), before_replace=unchanged
            )
        except OSError as exc:
            raise SourceUnavailableError(
                f"cannot write {self.path}: {exc.strerror or exc}"
            ) from None
        store.set_meta(SEQ_KEY, str(seq).encode())
        state.snap = stat_of(self.path)
        self._written[str(self.path)] = state.snap
        state.base = local_fp
        for name in sorted(state.read & set(listing)):  # folded: their versions are in it now
            try:
                (self.changes_dir / name).unlink()
            except FileNotFoundError:
                pass
            except OSError:
                continue  # read-only share: readers skip what they read; the next compaction tries again
            state.read.discard(name)
            listing.pop(name, None)
        report.wrote = report.compacted = True
        report.bytes_written += len(data)
        return published

    # -- device removal: key changes (vault/removal.py) -----------------------------------------
    def _follow_key_changes(self) -> list[removal.KeyChange]:
        """Follow every key change made elsewhere from the key this device holds (a removal: the
        new keys wrapped to this device), one after another; nothing to type. Raises
        DeviceRemovedError when this device is the one removed."""
        followed = []
        moved: list[Envelope] = []
        while True:
            data = read_key_change(self.folder, self.vault.keys)
            if data is None:
                break
            try:
                change = removal.open_change(data, self.vault.keys)
            except (TamperError, FormatError, UnsupportedVersionError) as exc:
                raise KeyChangeUnreadableError(
                    f"the folder's key change for this device's keys does not open ({exc}); "
                    "it was damaged or forged: nothing was changed here"
                ) from None
            moved = removal.follow(self.vault, change, data)
            followed.append(change)
        if followed:  # every version was re-encrypted: what was parsed before is stale
            self.codec = mssb.Codec()
            self._snapshot = None
            self._snapshot_seq = -1
            # the new snapshot holds these exact bytes (deterministic re-encryption): known
            self.codec.prime(moved)
        return followed

    # -- the saved account key (opt-in; see sync/folderkey.py for the trade-off) ----------------
    @property
    def account_key_saved(self) -> bool:
        """Is the Encrypted Account Key saved in this folder (new devices need no Kit)?"""
        return folderkey.path_for(self.folder, self.vault.slot.account_id).exists()

    def save_account_key(self, on: bool) -> bool:
        """Turn the setting on (save the current Encrypted Account Key) or off (delete it).

        Returns True if the folder changed. The setting is the file itself, so it holds for every
        device of the account.
        """
        self.check_folder()
        if on:
            if self.account_key_saved and not folderkey.refresh(self.folder, self.vault.slot.kit):
                return False
            folderkey.save(self.folder, self.vault.slot.kit)
            return True
        return folderkey.remove(self.folder, self.vault.slot.account_id)

    # -- an account reset made on another device ------------------------------------------------
    def _reset_elsewhere(self) -> mssb.FolderAccountResetError:
        """Keep this device's records as an encrypted backup (once per state), then say what to do.

        The newer file is left exactly as it is; nothing is merged into or out of it.
        """
        kept = self._keep_before_reset()
        return mssb.FolderAccountResetError(
            f"the account was reset on another device, so this device can no longer sync. Its records are kept "
            f"in the encrypted backup {kept} (it opens with the password you used before the reset). Sign in "
            "again with the new password and Kit: `strongroom signin --email E --kit FILE --folder DIR`"
        )

    def _keep_before_reset(self) -> Path:
        from vault.backup import keep_as_backup

        state = f"{self.vault.slot.generation}:{self.vault.store.max_seq()}"
        raw = self.vault.store.get_meta(RESET_BACKUP_KEY)
        if raw:
            seen, _, where = raw.decode().partition(" ")
            if seen == state and Path(where).exists():
                return Path(where)  # a watcher meets the reset on every event: one backup is enough
        kept = keep_as_backup(self.vault)
        self.vault.store.set_meta(RESET_BACKUP_KEY, f"{state} {kept}".encode())
        return kept

    def _remove_stale_temps(self) -> None:
        """Temp files of writers killed mid-save (encrypted, never the real file): tidy up."""
        now = time.time()
        temps = [
            *self.account_dir.glob(f".{mssb.FILE_NAME}.tmp-*"),
            *self.changes_dir.glob(".*.tmp-*"),
        ]
        for tmp in temps:
            try:
                if now - tmp.stat().st_mtime > STALE_TEMP:
                    tmp.unlink()
            except OSError:
                pass  # gone already, or not ours to remove

    def _verify(self, data: bytes, written: bytes) -> None:
        """The temp file must read back as exactly what we sealed, and open as a file of ours,
        before it replaces anything (no need to split the body again: it is the bytes we packed)."""
        if written != data:
            raise NotASyncFileError(
                "the sync file did not read back as written (disk or file system error); "
                "the previous file was kept"
            )
        header, container = mssb.parse(written)
        mssb.check_for(
            header, self.vault.keys.account_id, self.vault.keys.generation, self.vault.keys.epoch
        )
        mssb.open_body(container, self.vault.keys)

    def _ours(self) -> tuple[int, list[Envelope]]:
        """(local change counter, every stored version), re-reading only records changed since the
        last call: every store change bumps the counter, so a 10,000-record store is not rebuilt
        into objects on every sync. The counter is read first, so the snapshot covers it."""
        store = self.vault.store
        seq = store.max_seq()
        if self._snapshot is None:
            self._snapshot = store.grouped()
        elif seq != self._snapshot_seq:
            for rid in store.changed_ids_since(self._snapshot_seq):
                versions = store.versions(rid)
                if versions:
                    self._snapshot[rid] = versions
                else:
                    self._snapshot.pop(rid, None)
        self._snapshot_seq = seq
        return seq, [e for versions in self._snapshot.values() for e in versions]

    def _merge_copies(
        self, report: FolderReport, incoming: list[Envelope], seen: set[VKey], bad: list[Refusal]
    ) -> bool:
        """Read conflicted copies of data.mssb (any provider's naming), then rename them aside.

        Their versions join `incoming` (and `seen`); True if there were any copies."""
        found = False
        for name in self._copies():
            copy = self.account_dir / name
            if not copy.is_file():
                continue
            found = True
            try:
                data = mssb.read_bytes(copy)
                if data is None:
                    continue
                report.bytes_read += len(data)
                _, envs = mssb.open_snapshot(data, self.vault.keys, name, self.codec, bad)
                incoming.extend(envs)
                seen.update(_vkey(e) for e in envs)
                report.merged_copies.append(name)
                suffix = "merged"
            except SyncError:
                suffix = (
                    "not-merged"  # foreign, obsolete, damaged or newer: for the user, never merged
                )
            target = copy.with_name(f"{name}.{suffix}")
            n = 1
            while target.exists():
                n += 1
                target = copy.with_name(f"{name}.{suffix}-{n}")
            try:
                copy.rename(target)
            except FileNotFoundError:
                continue  # another device retired it first
            report.retired.append(target.name)
        return found


class _RetiredSnapshot(Exception):
    """data.mssb is sealed under a Vault Key this device moved away from (internal signal)."""


class KeyChangeUnreadableError(SyncError):
    """The folder's key change for this device's keys does not open (damaged or forged)."""


class KeyChangeConflictError(SyncError):
    """Another device changed the account's keys from the same keys first."""


def _snapshot_kid(data: bytes) -> str | None:
    try:
        return mssb.parse(data)[0].kid
    except SyncError:
        return None


def key_change_path(folder: Path, account_id: str, kid: str) -> Path:
    """`<AccountID>/keys/<hex of the key id moved from>.srkc` (docs/formats.md)."""
    return mssb.account_dir(folder, account_id) / KEYS_DIR / f"{base64.b64decode(kid).hex()}.srkc"


def read_key_change(folder: Path, keys: Any) -> bytes | None:
    """The key change moving away from `keys`' Vault Key, if the folder holds one."""
    return mssb.read_bytes(key_change_path(folder, keys.account_id, removal.key_id(keys)))


def publish_key_change(folder: Path, made: removal.Removal) -> Path:
    """Write a removal's key change first-wins: created only when no key change from the same
    keys exists (a hard link of a written, fsynced temp file fails if the name is taken)."""
    path = key_change_path(folder, made.old_keys.account_id, made.change.kid_from)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.urandom(4).hex()}")
        write_private_atomic(tmp, made.sealed)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise KeyChangeConflictError(
                "another device changed this account's keys first (removed a device); nothing "
                "was changed here: run `strongroom sync now` to follow it, then try again"
            ) from None
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise SourceUnavailableError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def removals_in(folder: Path, account_id: str) -> list[dict[str, Any]]:
    """The public headers of the folder's key changes (for an old Kit's reason)."""
    out = []
    where = mssb.account_dir(folder, account_id) / KEYS_DIR
    for path in sorted(where.glob("*.srkc")) if where.is_dir() else []:
        try:
            out.append(removal.read_header(path.read_bytes()))
        except (OSError, VaultError):
            continue
    return out


def bootstrap_from_folder(
    home: Path, folder: Path, email: str, password: str, kit: KitPayload | None
) -> Any:
    """A new device from the folder's data.mssb alone: Account Password + Kit → VK → every record.

    Without a Kit, the folder's saved account key (`account.key`, opt-in: the iCloud behaviour)
    stands in for it; NoSavedAccountKeyError when there is none.
    """
    from vault.vault import Vault

    if not folder.is_dir():
        raise SourceUnavailableError(f"the sync folder {folder} does not exist")
    if kit is None:
        kit, header, container, ak, k_pw, snap = _open_with_saved_key(folder, password)
    else:
        header, container, snap = _sync_file_for(folder, kit)
        _check_kit(folder, kit, header)
        ak, k_pw = keymod.open_account_key(kit, password)
    try:
        keys = keymod.open_vault_key(kit, ak, k_pw, header.wrapped_vk)
    except KitError:
        raise WrongPasswordError(
            "this Kit and password do not open the folder's sync file"
        ) from None
    if header.kid is not None and header.kid != mssb.key_id(keys):
        raise mssb.FolderFileAlteredError(
            "data.mssb was altered: it is not sealed with the key its own header names"
        )
    refused: list[Refusal] = []
    envelopes = mssb.decrypt(container, keys, refused=refused)
    slot = KeySlot(normalize_email(email), kit, header.wrapped_vk, "")
    vault = Vault.adopt(home, slot, keys, envelopes, "folder", refused)
    vault.update_settings(sync={"method": "folder", "folder": str(folder.resolve())})
    vault.store.set_meta(SEQ_KEY, str(header.seq).encode())
    state = FolderState(
        snap=snap if header.fmt >= 2 else None,  # layout 1: the first sync migrates it
        published=vault.store.max_seq(),
        base=header.slot_fingerprint,
        legacy=time.time() if header.fmt < 2 else header.legacy,
    )
    state.save(vault.store)
    try:  # the change files beside the snapshot (and, from a layout-1 folder, the migration)
        FolderSync(vault, folder).sync_now()
    except SyncError:
        pass  # the snapshot's records are in; the first `sync now` says what is wrong
    return vault


def _check_kit(folder: Path, kit: KitPayload, header: mssb.MssbHeader) -> None:
    """The Kit against the folder's header; one from before a device removal is refused as
    "replaced when device X was removed"."""
    if (kit.account_id, kit.generation) == (header.account_id, header.generation):
        if kit.epoch < header.epoch:
            changes = [c for c in removals_in(folder, kit.account_id) if c["gen"] == kit.generation]
            reason = removal.replaced_reason(kit.epoch, changes)
            if reason:
                raise KitError(KitReason.REPLACED, reason)
    keymod.check_kit_against(kit, header.account_id, header.generation, header.epoch)


def accounts_in(folder: Path) -> list[str]:
    """The accounts whose sync file this folder holds (sorted); [] when none or unreadable."""
    try:
        return sorted(d.name for d in folder.iterdir() if mssb.file_path(folder, d.name).is_file())
    except OSError:
        return []


def _sync_file_for(folder: Path, kit: KitPayload) -> tuple[mssb.MssbHeader, Any, Stat | None]:
    path = mssb.file_path(folder, kit.account_id)
    snap = stat_of(path)
    data = mssb.read_bytes(path)
    if data is None:
        others = accounts_in(folder)
        if others:  # the folder is right, the Kit is another account's
            held = "account " + others[0] if len(others) == 1 else "accounts " + ", ".join(others)
            raise KitError(
                KitReason.OTHER_ACCOUNT,
                f"it is for account {kit.account_id}; the folder {folder} holds {held} — "
                "is it another account's Kit?",
            )
        raise SourceUnavailableError(
            f"no sync file for account {kit.account_id} in {folder} "
            f"(expected {path}); is this the right folder, and has it finished syncing?"
        )
    header, container = mssb.parse(data)
    return header, container, snap


def check_slot_current(vault: Any, folder: Path) -> None:
    """Before a password change or Account Key rotation on a folder device: refuse when the
    folder already carries another key slot at our epoch or later (compare-and-swap; the header
    is only looked at, unauthenticated: the sync's own check is the binding one). An unreachable
    folder is no reason to refuse: the change is then published, or refused, at the next sync."""
    header = mssb.read_header(mssb.file_path(folder, vault.slot.account_id))
    slot = vault.slot
    if (
        header is None
        or header.generation != slot.generation
        or header.account_id != slot.account_id
    ):
        return
    if header.slot_fingerprint != mssb.local_slot_fingerprint(slot) and header.epoch >= slot.epoch:
        raise FolderSlotConflictError(
            "the Account Password (or Account Key) was already changed on another device; run "
            "`strongroom sync now` to take that change first (it asks for the new password), "
            "then change it again if you want"
        )


_SAVED_KEY_STALE = {
    KitReason.OUTDATED: "the account key saved in the folder is from before the last password change and no "
    "device has re-saved it yet; sync a signed-in device first, or give your current Kit",
    KitReason.BEFORE_RESET: "the account key saved in the folder is from before an account reset; give your new Kit",
    KitReason.NEWER: "the folder's sync file is older than its saved account key; wait until the folder has "
    "finished syncing, then try again",
}


def _open_with_saved_key(
    folder: Path, password: str
) -> tuple[KitPayload, mssb.MssbHeader, Any, bytes, bytes, Stat | None]:
    """Sign in with the folder's saved key: try each account that saved one (usually exactly one)."""
    paths = folderkey.find(folder)
    if not paths:
        raise folderkey.NoSavedAccountKeyError(
            f"the folder {folder} holds no saved account key, so your Authentication Kit is needed: give "
            "--kit FILE (a PNG/JPG/PDF of its QR code) or --code CODE. To sign in with the password alone "
            "next time, run `strongroom sync folder DIR --store-key` on a device that is signed in."
        )
    failures: list[Exception] = []
    for path in paths:
        try:
            kit = folderkey.read(path)
            if kit is None:
                raise folderkey.NoSavedAccountKeyError(
                    f"{path} disappeared while signing in; try again"
                )
            header, container, snap = _sync_file_for(folder, kit)
            try:
                keymod.check_kit_against(kit, header.account_id, header.generation, header.epoch)
            except KitError as exc:
                raise KitError(exc.reason, _SAVED_KEY_STALE.get(exc.reason, exc.detail)) from None
            ak, k_pw = folderkey.open_account_key(kit, password)
            return kit, header, container, ak, k_pw, snap
        except (SyncError, VaultError) as exc:
            failures.append(exc)
    if len(failures) == 1:
        raise failures[0]
    raise WrongPasswordError(
        f"none of the {len(paths)} account keys saved in {folder} opens with this password; "
        "check the password, or give your Kit (--kit FILE or --code CODE)"
    )


def reset_backup_of(home: Path) -> Path | None:
    """The encrypted backup kept when this device met an account reset made elsewhere, if any."""
    from vault.vault import Vault

    vault = Vault.open(home)
    try:
        raw = vault.store.get_meta(RESET_BACKUP_KEY)
    finally:
        vault.close()
    if not raw:
        return None
    where = Path(raw.decode().partition(" ")[2])
    return where if where.exists() else None


def read_folder(folder: Path, keys: Any) -> list[Envelope]:
    """Every version the account folder holds: the snapshot and every readable change file
    (for tests, tools and the benchmark; a sync reads only what is new)."""
    adir = mssb.account_dir(folder, keys.account_id)
    out: list[Envelope] = []
    data = mssb.read_bytes(adir / mssb.FILE_NAME)
    if data is not None:
        out.extend(mssb.open_snapshot(data, keys)[1])
    changes = adir / CHANGES
    for path in sorted(changes.iterdir()) if changes.is_dir() else []:
        if is_change_file(path.name) and path.is_file():
            out.extend(folderlog.decode(path.read_bytes(), keys, path.name)[1])
    return out
