"""Folder sync (Dropbox, iCloud Drive, Syncthing, a network share): one data.mssb per account.

`FolderSync(vault, folder).sync_now()` reads `<folder>/<AccountID>/data.mssb` if present, merges
it (and any conflicted copies the folder's client made) into the local store, then writes the
union back atomically — only when the file lacks something we hold. `bootstrap_from_folder`
makes a new device from the file alone, given the Account Password and the Kit.

API for the CLI / TUI (the vault must be unlocked):

    sync = FolderSync(vault, Path(folder))   # keep one per device: it remembers parsed envelopes
    report = sync.sync_now()                 # FolderReport: received, wrote, merged_copies,
                                             # retired, waiting_for_download, file_digest
    vault = bootstrap_from_folder(home, folder, email, password, kit)   # kit=None: the saved key
    sync.account_key_saved / sync.save_account_key(on)   # opt-in account.key (sync/folderkey.py)
    reset_backup_of(home)                    # what a device kept when it met a reset elsewhere
                                             # (signing in again: runtime/account.py)
    FolderWatcher(sync, on_change=...)       # live updates: sync/watch.py
    mssb.adopt_new_epoch(vault, path, new_password)   # after FolderPasswordChangedError

Errors (all SyncError; the local vault and the bad file are left untouched): SourceUnavailable-
Error (folder missing/unreadable), NotASyncFileError (truncated, garbage, tampered),
ForeignSyncFileError, SyncFileVersionError (newer Strongroom), mssb.FolderPasswordChangedError
(also vault EpochChangedError: ask for the new password), mssb.FolderAccountResetError (also
GenerationChangedError: sign in again; this device's records were first kept as an encrypted
backup, named in the message, once per state), folderkey.NoSavedAccountKeyError and
DamagedAccountKeyError (sign-in without a Kit). An obsolete file (older generation) is not an error:
it is renamed `data.obsolete-<gen>-<time>.mssb` and reported in `retired`.

Rules (DESIGN.md "data.mssb"): a file of an older generation is obsolete — renamed aside, never
merged; a newer generation or epoch means the account was reset / the password changed elsewhere
(typed errors, the user decides); an iCloud placeholder `.data.mssb.icloud` means "not
downloaded yet", so nothing is written over it. Conflicted copies (`data (… conflicted copy
…).mssb`, `data.sync-conflict-….mssb`, iCloud's `data 2.mssb`) are merged and renamed
`….merged`; unreadable or foreign ones are renamed `….not-merged` for the user to inspect.
If another device replaces data.mssb while we save, we merge its write and save again.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from vault import keys as keymod
from vault.envelope import Envelope
from vault.errors import KitError, KitReason, VaultError, WrongPasswordError
from vault.kdf import normalize_email
from vault.keys import KeySlot
from vault.kitcode import KitPayload

from . import folderkey, mssb
from .errors import NotASyncFileError, ObsoleteSyncFileError, SourceUnavailableError, SyncError

#: Copies that sync clients make when two devices write at once (Dropbox, Syncthing, Nextcloud, …).
CONFLICT_COPY = re.compile(
    r"^data(?:[ .(_-].*(?:conflict|conflicted).*| \d+)\.mssb$", re.IGNORECASE
)
PLACEHOLDER = ".data.mssb.icloud"
SEQ_KEY = "sync.folder.seq"
RESET_BACKUP_KEY = "sync.folder.reset_backup"
STALE_TEMP = 3600.0  # seconds: a temp file this old is left by a writer that was killed


@dataclass
class FolderReport:
    received: int = 0  # records whose state changed here
    wrote: bool = False
    merged_copies: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    waiting_for_download: bool = False
    #: sha256 of the data.mssb content this sync fully merged (or wrote); None if none. The
    #: watcher compares against it: hashing the file afterwards could record another
    #: device's newer write as already merged.
    file_digest: str | None = None
    #: the local change counter covered by what was written or found in the file.
    local_seq: int = 0

    @property
    def detail(self) -> str:
        """What this sync did, in words (`sync now`, `sync serve`, the app)."""
        if self.waiting_for_download:
            return "the sync file is not downloaded yet (iCloud placeholder); try again shortly"
        bits = [
            f"{self.received} record(s) updated here",
            "file written" if self.wrote else "file already current",
        ]
        if self.merged_copies:
            bits.append(f"merged {len(self.merged_copies)} conflicted copy(ies)")
        return "; ".join(bits)


def _versions_key(envs: list[Envelope]) -> set[tuple[str, str, bytes]]:
    """Versions by content too: one vector with two contents is two versions, never 'current'."""
    return {(e.record_id, e.vv_text, e.ciphertext) for e in envs}


class FolderSync:
    def __init__(self, vault: Any, folder: Path) -> None:
        self.vault = vault
        self.folder = folder
        self.codec = (
            mssb.Codec()
        )  # keep one FolderSync per device: repeated syncs reuse parsed envelopes
        self._snapshot: dict[str, list[Envelope]] | None = None  # this store's versions, by record
        self._snapshot_seq = -1
        #: the last data.mssb this sync wrote or fully read, as (bytes, header, versions)
        self._known: tuple[bytes, mssb.MssbHeader, list[Envelope]] | None = None

    @property
    def account_dir(self) -> Path:
        return mssb.account_dir(self.folder, self.vault.slot.account_id)

    @property
    def path(self) -> Path:
        return mssb.file_path(self.folder, self.vault.slot.account_id)

    def check_folder(self) -> None:
        if not self.folder.is_dir():
            raise SourceUnavailableError(
                f"the sync folder {self.folder} is missing (not mounted, moved or deleted?); "
                "reconnect it or choose another with `strongroom sync folder DIR`"
            )

    def _read(self, path: Path) -> tuple[bytes, mssb.MssbHeader, list[Envelope]] | None:
        """(bytes, header, versions) of one file, authenticated for this account; None if absent."""
        data = mssb.read_bytes(path)
        if data is None:
            return None
        known = self._known
        if known is not None and path == self.path and known[0] == data:
            keys = (
                self.vault.keys
            )  # the very bytes we wrote or read last time: skip decrypting them again
            mssb.check_for(known[1], keys.account_id, keys.generation, keys.epoch, path.name)
            return known
        header, envelopes = mssb.read_for(data, self.vault.keys, path.name, self.codec)
        return data, header, envelopes

    def _apply_new(self, envelopes: list[Envelope], held: set[tuple[str, str, bytes]]) -> int:
        """Merge only versions this store does not hold yet (the rest would change nothing)."""
        new = [e for e in envelopes if (e.record_id, e.vv_text, e.ciphertext) not in held]
        if not new:
            return 0
        held.update((e.record_id, e.vv_text, e.ciphertext) for e in new)
        return len(self.vault.apply(new))

    def sync_now(self) -> FolderReport:
        """Merge the folder's file (and conflicted copies) into the store, then write the union.

        Raises SourceUnavailableError (folder gone), NotASyncFileError (damaged/tampered),
        ForeignSyncFileError, SyncFileVersionError, FolderPasswordChangedError or
        FolderAccountResetError; in every case the local vault and the bad file are untouched.
        """
        self.check_folder()
        report = FolderReport()
        self.account_dir.mkdir(exist_ok=True)
        if not self.path.exists() and (self.account_dir / PLACEHOLDER).exists():
            report.waiting_for_download = True
            return report
        seq = int(self.vault.store.get_meta(SEQ_KEY) or b"0")
        self._remove_stale_temps()
        for attempt in range(
            5
        ):  # merge, write; if someone replaced the file meanwhile, merge again
            try:
                got = self._read(self.path)
            except mssb.FolderAccountResetError:
                raise self._reset_elsewhere() from None
            except ObsoleteSyncFileError:
                old = mssb.read_bytes(self.path) or b""
                report.retired.append(
                    mssb.retire_obsolete(self.path, mssb.parse(old)[0].generation).name
                )
                got = None
            before = got[0] if got is not None else None
            report.local_seq, ours = self._ours()
            held = _versions_key(ours)
            applied = 0
            if got is not None:
                _, header, theirs = got
                seq = max(seq, header.seq)
                applied += self._apply_new(theirs, held)
            applied += self._merge_copies(report, held)
            report.received += applied
            if applied:
                report.local_seq, ours = self._ours()
            if (
                got is not None
                and _versions_key(ours) <= _versions_key(theirs)
                and header.epoch == self.vault.slot.epoch
            ):
                report.file_digest = mssb.digest(got[0])
                self._known = got
                break  # the file already holds everything we have
            new_header = mssb.header_for(self.vault.slot, self.vault.device, seq + 1)
            data = mssb.encode(new_header, self.vault.keys, ours, self.codec)
            try:
                mssb.write_atomic(self.path, data, partial(self._verify, data), expected=before)
            except mssb.FileChangedWhileWritingError:
                if attempt == 4:
                    raise
                continue
            seq += 1
            report.wrote = True
            report.file_digest = mssb.digest(data)
            self._known = (data, new_header, ours)
            break
        self.vault.store.set_meta(SEQ_KEY, str(seq).encode())
        folderkey.refresh(self.folder, self.vault.slot.kit)
        self.vault.update_settings(last_sync=time.time(), last_sync_seq=self.vault.store.max_seq())
        return report

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
        for tmp in self.account_dir.glob(f".{mssb.FILE_NAME}.tmp-*"):
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

    def _merge_copies(self, report: FolderReport, held: set[tuple[str, str, bytes]]) -> int:
        """Merge conflicted copies, then rename them aside; returns records changed here."""
        changed = 0
        for copy in sorted(self.account_dir.iterdir()):
            if copy.name == mssb.FILE_NAME or not CONFLICT_COPY.match(copy.name):
                continue
            try:
                got = self._read(copy)
                suffix = "merged"
            except SyncError:
                got = None  # foreign, obsolete, damaged or newer: set aside for the user, never merged
                suffix = "not-merged"
            if got is not None:
                changed += self._apply_new(got[2], held)
                report.merged_copies.append(copy.name)
            target = copy.with_name(f"{copy.name}.{suffix}")
            n = 1
            while target.exists():
                n += 1
                target = copy.with_name(f"{copy.name}.{suffix}-{n}")
            try:
                copy.rename(target)
            except FileNotFoundError:
                continue  # another device retired it first
            report.retired.append(target.name)
        return changed


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
        kit, header, container, ak, k_pw = _open_with_saved_key(folder, password)
    else:
        header, container = _sync_file_for(folder, kit)
        keymod.check_kit_against(kit, header.account_id, header.generation, header.epoch)
        ak, k_pw = keymod.open_account_key(kit, password)
    try:
        keys = keymod.open_vault_key(kit, ak, k_pw, header.wrapped_vk)
    except KitError:
        raise WrongPasswordError(
            "this Kit and password do not open the folder's sync file"
        ) from None
    envelopes = mssb.decrypt(container, keys)
    slot = KeySlot(normalize_email(email), kit, header.wrapped_vk, "")
    vault = Vault.adopt(home, slot, keys, envelopes)
    vault.update_settings(sync={"method": "folder", "folder": str(folder.resolve())})
    vault.store.set_meta(SEQ_KEY, str(header.seq).encode())
    return vault


def _sync_file_for(folder: Path, kit: KitPayload) -> tuple[mssb.MssbHeader, Any]:
    path = mssb.file_path(folder, kit.account_id)
    data = mssb.read_bytes(path)
    if data is None:
        raise SourceUnavailableError(
            f"no sync file for account {kit.account_id} in {folder} "
            f"(expected {path}); is this the right folder, and has it finished syncing?"
        )
    return mssb.parse(data)


_SAVED_KEY_STALE = {
    KitReason.OUTDATED: "the account key saved in the folder is from before the last password change and no "
    "device has re-saved it yet; sync a signed-in device first, or give your current Kit",
    KitReason.BEFORE_RESET: "the account key saved in the folder is from before an account reset; give your new Kit",
    KitReason.NEWER: "the folder's sync file is older than its saved account key; wait until the folder has "
    "finished syncing, then try again",
}


def _open_with_saved_key(
    folder: Path, password: str
) -> tuple[KitPayload, mssb.MssbHeader, Any, bytes, bytes]:
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
            header, container = _sync_file_for(folder, kit)
            try:
                keymod.check_kit_against(kit, header.account_id, header.generation, header.epoch)
            except KitError as exc:
                raise KitError(exc.reason, _SAVED_KEY_STALE.get(exc.reason, exc.detail)) from None
            ak, k_pw = folderkey.open_account_key(kit, password)
            return kit, header, container, ak, k_pw
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
