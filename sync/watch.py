"""Watching the sync folder: react when another device replaces data.mssb, and push local changes.

Watches the account folder, not the file: sync clients and our own writer replace data.mssb
atomically (temp + rename), which arrives as a *moved* event onto data.mssb, and a watch on the
old file would be lost with its inode. Bursts are debounced (quiet for DEBOUNCE seconds, at
most MAX_DEBOUNCE), events that leave the content hash unchanged (our own writes included) do
nothing, and the folder is rescanned every RESCAN seconds because watchers miss events on some
file systems (network shares, FUSE). Where inotify/FSEvents cannot start (watch limit, odd file
system), watchdog's polling observer is used instead.

API (runtime/runners.py runs it for the app and `strongroom sync serve`):

    w = FolderWatcher(FolderSync(vault, folder), on_sync=..., on_error=...)
    w.start()              # the observer; SourceUnavailableError if the folder is missing
    w.step()               # wait up to LOCAL_POLL for a change, sync if needed; or run() to block
    ...
    w.stop()

The watcher syncs on the vault it is given, from the thread that calls step()/run(): give it a
vault on that thread's own connection (`Vault.another_connection()`) whenever another thread
keeps using the caller's. It never creates the configured folder (an unmounted share must not
silently become an empty local folder), only the account folder inside it.

`on_sync(report)` follows every sync, `on_change(report)` only those that changed records here,
`on_error(exc)` gets SyncError / VaultError instances and the watcher keeps running. Callbacks run
on the thread that calls step()/run().
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
    ) -> None:
        """`poll=True` stats the folder instead of using inotify/FSEvents: for network shares,
        where the kernel never hears about writes made by other machines."""
        self.sync = sync  # may be replaced between steps (a new connection after a password change)
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
        self._last_rescan = time.monotonic()
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
        """Start the observer on the account folder (created inside the configured folder, which
        must exist: SourceUnavailableError otherwise)."""
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                watcher._event(str(event.src_path), str(getattr(event, "dest_path", "") or ""))

        self.sync.check_folder()
        self.sync.account_dir.mkdir(exist_ok=True)
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
        self.wake()
        self._thread = threading.Thread(
            target=self.run, name="strongroom-folder-watch", daemon=True
        )
        self._thread.start()

    def wake(self) -> None:
        """Look at the folder and the store at the next step (a first sync)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def run_once(self) -> FolderReport | None:
        """Sync if the file, the local store or the key slot changed since the last run, or copies wait."""
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

    def step(self) -> None:
        """Wait up to LOCAL_POLL for a folder event, then sync if the folder's file, the local
        store or the key slot (a password changed here) changed, or at the periodic rescan."""
        woke = self._wake.wait(timeout=LOCAL_POLL)
        if self._stop.is_set():
            return
        if woke:
            self._settle()
            self._wake.clear()
        try:
            if (
                woke
                or time.monotonic() - self._last_rescan > self.rescan
                or self.sync.vault.store.max_seq() != self._last_seq
                or self.sync.vault.slot != self._last_slot
            ):
                self._last_rescan = time.monotonic()
                self.run_once()
        except Exception as exc:  # noqa: BLE001 - reported, the watcher keeps running
            if self.on_error:
                self.on_error(exc)

    def run(self) -> None:
        """Block until stop(): event-driven, plus local-change polling and a periodic rescan."""
        while not self._stop.is_set():
            self.step()
