"""Watching the sync folder: react when another device replaces data.mssb, and push local changes.

Watches the account folder (not the file: an atomic replace arrives as a *moved* event onto
data.mssb), debounces bursts, ignores events that leave the content hash unchanged (our own
writes included), and rescans periodically because watchers miss events on some file systems.
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
RESCAN = 30.0
LOCAL_POLL = 1.0


class FolderWatcher:
    """Runs FolderSync.sync_now when the folder's file changes or this device's store changes."""

    def __init__(self, sync: FolderSync, on_sync: Callable[[FolderReport], None] | None = None,
                 on_error: Callable[[Exception], None] | None = None) -> None:
        self.sync = sync
        self.on_sync = on_sync
        self.on_error = on_error
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._observer: Any = None
        self._last_hash: str | None = None
        self._last_seq = -1

    def _file_hash(self) -> str | None:
        data = mssb.read_bytes(self.sync.path)
        return mssb.digest(data) if data is not None else None

    def start(self) -> None:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                names = {Path(str(event.src_path)).name, Path(str(getattr(event, "dest_path", "") or "")).name}
                if mssb.FILE_NAME in names or any(CONFLICT_COPY.match(n) for n in names if n):
                    watcher._wake.set()

        self.sync.account_dir.mkdir(parents=True, exist_ok=True)
        self._observer = Observer()
        self._observer.schedule(Handler(), str(self.sync.account_dir), recursive=False)
        self._observer.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)

    def run_once(self) -> FolderReport | None:
        """Sync if the file or the local store changed since the last run."""
        file_hash = self._file_hash()
        seq = self.sync.vault.store.max_seq()
        if file_hash == self._last_hash and seq == self._last_seq:
            return None
        report = self.sync.sync_now()
        self._last_hash = self._file_hash()
        self._last_seq = self.sync.vault.store.max_seq()
        if self.on_sync:
            self.on_sync(report)
        return report

    def run(self) -> None:
        """Block until stop(): event-driven, plus local-change polling and a periodic rescan."""
        last_rescan = time.monotonic()
        while not self._stop.is_set():
            woke = self._wake.wait(timeout=LOCAL_POLL)
            if self._stop.is_set():
                break
            if woke:
                time.sleep(DEBOUNCE)  # let a burst of events settle
                self._wake.clear()
            try:
                if woke or time.monotonic() - last_rescan > RESCAN or \
                        self.sync.vault.store.max_seq() != self._last_seq:
                    last_rescan = time.monotonic()
                    self.run_once()
            except Exception as exc:  # noqa: BLE001 - reported, the watcher keeps running
                if self.on_error:
                    self.on_error(exc)
