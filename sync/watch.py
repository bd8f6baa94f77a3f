"""Watching the sync folder: react when another device replaces data.mssb, and push local changes.

Watches the account folder, not the file: sync clients and our own writer replace data.mssb
atomically (temp + rename), which arrives as a *moved* event onto data.mssb, and a watch on the
old file would be lost with its inode. Bursts are debounced (quiet for DEBOUNCE seconds, at
most MAX_DEBOUNCE), events that leave the content hash unchanged (our own writes included) do
nothing, and the folder is rescanned every RESCAN seconds because watchers miss events on some
file systems (network shares, FUSE). Where inotify/FSEvents cannot start (watch limit, odd file
system), watchdog's polling observer is used instead.

API (used by `strongroom sync serve` and the TUI):

    w = FolderWatcher(FolderSync(vault, folder), on_sync=..., on_error=..., on_change=...,
                      own_connection=True)   # whenever the UI thread keeps using `vault`
    w.start_background()   # observer + worker thread; or start() then run() to block
    ...
    w.stop()

`on_sync(report)` follows every sync, `on_change(report)` only those that changed records here
(refresh the record list; from the TUI wrap it in `app.call_from_thread`), `on_error(exc)` gets
SyncError / VaultError instances and the watcher keeps running. Callbacks run on the worker thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import mssb
from .folder import CONFLICT_COPY, FolderReport, FolderSync

DEBOUNCE = 0.3
MAX_DEBOUNCE = 2.0
RESCAN = 30.0
LOCAL_POLL = 1.0


def _relevant(name: str) -> bool:
    return name == mssb.FILE_NAME or bool(CONFLICT_COPY.match(name))


class FolderWatcher:
    """Runs FolderSync.sync_now when the folder's file changes or this device's store changes."""

    def __init__(
        self,
        sync: FolderSync,
        on_sync: Callable[[FolderReport], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
        on_change: Callable[[FolderReport], None] | None = None,
        rescan: float = RESCAN,
        poll: bool = False,
        own_connection: bool = False,
    ) -> None:
        """`poll=True` stats the folder instead of using inotify/FSEvents: for network shares,
        where the kernel never hears about writes made by other machines.

        `own_connection=True` (use it whenever another thread, e.g. the UI, keeps using the same
        Vault): syncs run on a second Vault of the same home with its own SQLite connection,
        unlocked with the main vault's keys and re-opened when its key slot changes (password
        changed here). One connection shared by two threads fails with "cannot start a
        transaction within a transaction". The main vault sees the merged records through its
        store's change counter; while it is locked, syncs fail with LockedError (to on_error).
        """
        self.sync = sync
        self._main = sync.vault if own_connection else None
        self._private: Any = None
        self.on_sync = on_sync
        self.on_error = on_error
        self.on_change = on_change
        self.rescan = rescan
        self._poll = poll
        self.polling = (
            False  # True when polling (asked for, or the native observer could not start)
        )
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._observer: Any = None
        self._thread: threading.Thread | None = None
        self._last_event = 0.0
        self._last_hash: str | None = None
        self._last_seq = -1
        self._last_slot: Any = None

    def _file_hash(self) -> str | None:
        data = mssb.read_bytes(self.sync.path)
        return mssb.digest(data) if data is not None else None

    def _copies_waiting(self) -> bool:
        try:
            return any(CONFLICT_COPY.match(p.name) for p in self.sync.account_dir.iterdir())
        except OSError:
            return False

    def _event(self, *paths: str) -> None:
        if any(_relevant(Path(p).name) for p in paths if p):
            self._last_event = time.monotonic()
            self._wake.set()

    def start(self) -> None:
        """Start the observer on the account folder (created if missing)."""
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                watcher._event(str(event.src_path), str(getattr(event, "dest_path", "") or ""))

        self.sync.account_dir.mkdir(parents=True, exist_ok=True)
        for kind in (PollingObserver,) if self._poll else (Observer, PollingObserver):
            observer = kind()
            try:
                observer.schedule(Handler(), str(self.sync.account_dir), recursive=False)
                observer.start()
            except OSError:  # inotify watch/instance limit, unsupported file system
                continue
            self._observer = observer
            self.polling = kind is PollingObserver
            return

    def start_background(self) -> None:
        """start() plus a daemon worker thread running run(); a first sync happens at once."""
        self.start()
        self._wake.set()
        self._thread = threading.Thread(
            target=self.run, name="strongroom-folder-watch", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        if self._private is not None and (self._thread is None or not self._thread.is_alive()):
            self._private.close()
            self._private = None

    def _use_private_connection(self) -> None:
        """Point self.sync at a Vault with its own connection, current with the main one's slot."""
        from vault.vault import Vault

        main = self._main
        if main is None:
            return
        keys = main.keys  # LockedError while the main vault is locked: nothing to sync with
        if self._private is None or self._private.slot != main.slot:
            if self._private is not None:
                self._private.close()
            self._private = Vault.open(main.home)
            self._private.unlock_with_keys(keys)
            self.sync = FolderSync(self._private, self.sync.folder)

    def _slot(self) -> Any:
        """This device's key slot now (a password change here must reach the file too)."""
        return (self._main or self.sync.vault).slot

    def run_once(self) -> FolderReport | None:
        """Sync if the file, the local store or the key slot changed since the last run, or copies wait."""
        self._use_private_connection()
        slot = self.sync.vault.slot
        file_hash = self._file_hash()
        seq = self.sync.vault.store.max_seq()
        if (
            file_hash == self._last_hash
            and seq == self._last_seq
            and slot == self._last_slot
            and not self._copies_waiting()
        ):
            return None
        report = self.sync.sync_now()
        self._last_slot = slot  # the slot this sync wrote with; a change meanwhile shows next time
        # What this sync really merged, not the file as it is now (another device may have
        # replaced it meanwhile: then the hashes differ and the next pass merges that too).
        self._last_hash = report.file_digest
        self._last_seq = report.local_seq
        if self.on_sync:
            self.on_sync(report)
        if self.on_change and report.received:
            self.on_change(report)
        return report

    def _settle(self) -> None:
        """Wait until events stop for DEBOUNCE (a sync client writes in several steps)."""
        started = time.monotonic()
        while not self._stop.is_set() and time.monotonic() - started < MAX_DEBOUNCE:
            quiet = time.monotonic() - self._last_event
            if quiet >= DEBOUNCE:
                return
            time.sleep(DEBOUNCE - quiet)

    def run(self) -> None:
        """Block until stop(): event-driven, plus local-change polling and a periodic rescan."""
        last_rescan = time.monotonic()
        while not self._stop.is_set():
            woke = self._wake.wait(timeout=LOCAL_POLL)
            if self._stop.is_set():
                break
            if woke:
                self._settle()
                self._wake.clear()
            try:
                if (
                    woke
                    or time.monotonic() - last_rescan > self.rescan
                    or self.sync.vault.store.max_seq() != self._last_seq
                    or self._slot() != self._last_slot
                ):
                    last_rescan = time.monotonic()
                    self.run_once()
            except Exception as exc:  # noqa: BLE001 - reported, the watcher keeps running
                if self.on_error:
                    self.on_error(exc)
