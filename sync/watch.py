"""Watching the sync folder: react when another device writes one of the account's sync files,
and push local changes.

Quiet by design (an idle device reads nothing from the folder):

- only *write* events wake a sync: created, modified, moved onto, closed after writing. Opening
  and reading a file (FileOpenedEvent, FileClosedNoWriteEvent: our own reads raise them), deletes
  and attribute changes never do. Which names count is one predicate, `is_sync_file`, so a
  folder format with more files than data.mssb extends it in one place;
- a woken watcher compares a fingerprint of the sync files (name -> inode, size, mtime, ctime;
  a directory listing and stats, never a read) with the one it last merged or wrote, so the
  echoes of our own writes and anything already merged do nothing. A file that changed *while*
  a sync ran is trusted only when nobody touched it in between, or it is exactly the data.mssb
  this sync wrote (one read of it, to check); otherwise the next look syncs again;
- the periodic rescan (RESCAN seconds, for file systems whose watchers miss events) compares
  the same fingerprint; it syncs again after an error (a damaged file is not re-read and
  re-reported on every event, only when it changes or at the rescan);
- watchers re-attach when the account folder (or `changes/`) is deleted and made again: a watch
  on the configured folder sees it come back, and a watch is renewed whenever its folder's inode
  changed, its folder was reported deleted or its emitter ended. The inode alone cannot tell: a
  folder made again at once often gets the freed inode number back, while the watch died with
  the old folder (the cause of a test that failed now and then under load).

Sync clients and our own writer replace data.mssb atomically (temp + rename), which arrives as a
*moved* event onto data.mssb. Bursts are debounced (quiet for DEBOUNCE seconds, at most
MAX_DEBOUNCE). Where inotify/FSEvents cannot start (watch limit, odd file system), watchdog's
polling observer is used instead.

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

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import foldernames, mssb
from .folder import FolderReport, FolderSync

DEBOUNCE = 0.3
MAX_DEBOUNCE = 2.0
RESCAN = 30.0
LOCAL_POLL = 1.0

#: watchdog event types that mean "someone wrote this file" (closed = closed after writing).
WRITE_EVENTS = frozenset({"created", "modified", "moved", "closed"})

Signature = tuple[int, int, int, int]  # inode, size, mtime_ns, ctime_ns
Fingerprint = dict[str, Signature]


def is_sync_file(name: str) -> bool:
    """Is this name (relative to the account folder) one of its sync files? Layout 2's rules
    (data.mssb, copies of it, change files in `changes/`): sync/foldernames.py."""
    return foldernames.is_sync_file(name)


def wakes(event_type: str, is_directory: bool, src: str, dest: str = "") -> bool:
    """Does this watchdog event call for a look: a write of a sync file? Paths relative to the
    account folder; a move counts by where it lands."""
    if is_directory or event_type not in WRITE_EVENTS:
        return False
    return is_sync_file(dest if event_type == "moved" else src)


def _write_event_filter() -> list[type[Any]]:
    """The events a watch asks the kernel for: writes, moves, creations and deletions. Opens and
    closes without a write are left out, so listing our own folder (every look does) queues
    nothing for the watcher to read: an idle watcher reads 0 bytes, event reads included."""
    from watchdog.events import (
        DirCreatedEvent,
        DirDeletedEvent,
        DirModifiedEvent,
        DirMovedEvent,
        FileClosedEvent,
        FileCreatedEvent,
        FileDeletedEvent,
        FileModifiedEvent,
        FileMovedEvent,
    )

    return [
        FileCreatedEvent,
        FileModifiedEvent,
        FileMovedEvent,
        FileClosedEvent,
        FileDeletedEvent,
        DirCreatedEvent,
        DirModifiedEvent,
        DirMovedEvent,
        DirDeletedEvent,
    ]


def _signature(st: os.stat_result) -> Signature:
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class FolderWatcher:
    """Runs FolderSync.sync_now when another device writes a sync file or this store changes."""

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
        self._stopping = threading.Lock()
        self._handler: Any = None
        self._event_filter: list[type[Any]] | None = None  # set by start()
        self._watch: Any = None  # the watch on the account folder
        self._watched: tuple[int, int] | None = None  # (device, inode) of the folder it watches
        self._changes_watch: Any = None  # the watch on `changes/` (layout 2's change files)
        self._changes_watched: tuple[int, int] | None = None
        #: the account folder or `changes/` was deleted or moved away: renew both watches
        self._stale = False
        self._thread: threading.Thread | None = None
        self._last_event = 0.0
        self._last_rescan = time.monotonic()
        self._known: Fingerprint | None = None  # the sync files as last merged or written
        self._failed = False  # the last sync raised: the rescan tries again
        self._last_seq = -1
        self._last_slot: Any = None
        #: how many syncs ran, and how many looks found nothing to do (tests, bench)
        self.syncs = 0
        self.quiet_looks = 0

    # -- what the folder holds, without reading it -----------------------------------------------
    def _fingerprint(self) -> Fingerprint:
        """name -> signature of every sync file in the account folder and the folders in it
        (names relative to the account folder, e.g. `changes/…`): a listing and stats."""
        out: Fingerprint = {}
        todo = [(self.sync.account_dir, "")]
        while todo:
            where, prefix = todo.pop()
            try:
                with os.scandir(where) as entries:
                    for entry in entries:
                        name = prefix + entry.name
                        with contextlib.suppress(OSError):  # gone meanwhile
                            if entry.is_dir(follow_symlinks=False):
                                if not prefix and not entry.name.startswith("."):
                                    todo.append((Path(entry.path), name + "/"))
                            elif is_sync_file(name):
                                out[name] = _signature(entry.stat())
            except OSError:
                pass  # the account folder (or one in it) is missing
        return out

    def _nothing_written(self, now: Fingerprint) -> bool:
        """Is every sync file there now one already merged or written (files only deleted, or
        nothing changed)? A deletion brings nothing to merge, so it wakes no sync: the account
        folder being deleted is not answered by writing into it while it goes."""
        known = self._known
        return known is not None and all(known.get(name) == sig for name, sig in now.items())

    def _wrote_this(self, sig: Signature, digest: str) -> bool:
        """Is the data.mssb with this signature the very file whose digest a sync reported?"""
        try:
            with open(self.sync.path, "rb") as f:
                if _signature(os.fstat(f.fileno())) != sig:
                    return False
                return mssb.digest(f.read()) == digest
        except OSError:
            return False

    def _settled(
        self, before: Fingerprint, after: Fingerprint, report: FolderReport
    ) -> Fingerprint:
        """What this sync covered: files nobody touched while it ran (it read them as they are),
        plus the files it wrote itself (FolderSync.wrote(path) where the folder format offers it;
        data.mssb checked against the digest the sync reported otherwise). Anything else changed
        meanwhile is left out, so the next look syncs again."""
        wrote = getattr(self.sync, "wrote", None)
        known: Fingerprint = {}
        for name, sig in after.items():
            if before.get(name) == sig:
                known[name] = sig
            elif callable(wrote):
                if wrote(self.sync.account_dir / name):
                    known[name] = sig
            elif (
                name == mssb.FILE_NAME
                and report.wrote
                and report.file_digest is not None
                and self._wrote_this(sig, report.file_digest)
            ):
                known[name] = sig
        return known

    # -- events -----------------------------------------------------------------------------------
    def _event(self, event_type: str, is_directory: bool, src: str, dest: str) -> None:
        here = str(self.sync.account_dir)
        src, dest = (os.path.relpath(p, here) if p else "" for p in (src, dest))
        if event_type in ("deleted", "moved") and src in (".", foldernames.CHANGES):
            self._gone()  # the watched folder itself, or changes/ (its flag may say file)
        elif event_type == "events_lost" or wakes(event_type, is_directory, src, dest):
            self._last_event = time.monotonic()
            self._wake.set()

    def _parent_event(self, event_type: str, is_directory: bool, src: str, dest: str) -> None:
        """The configured folder: the account folder made (or moved) there again."""
        if event_type in ("deleted", "moved") and Path(src).name == self.sync.account_dir.name:
            self._gone()
        landed = Path(dest if event_type == "moved" else src).name
        if (
            is_directory
            and event_type in ("created", "moved")
            and landed == self.sync.account_dir.name
        ):
            self._wake.set()

    def _gone(self) -> None:
        """A watched folder went away: its watch is dead even if a folder made again gets the
        same inode number, so the next step renews the watches and looks."""
        self._stale = True
        self._wake.set()

    def _alive(self, watch: Any) -> bool:
        """Does the observer still watch through `watch`? Its emitter ends when the folder it
        watched is deleted (inotify's delete-self)."""
        try:
            emitters = list(self._observer.emitters)
        except (AttributeError, RuntimeError):  # another watchdog, or changing meanwhile
            return watch is not None
        return any(e.watch == watch and e.should_keep_running() for e in emitters)

    def start(self) -> None:
        """Start the observer on the configured folder and the account folder (created inside
        the configured folder, which must exist: SourceUnavailableError otherwise)."""
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        watcher = self

        def parts(event: FileSystemEvent) -> tuple[str, bool, str, str]:
            dest = getattr(event, "dest_path", "") or ""
            return event.event_type, event.is_directory, str(event.src_path), str(dest)

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                watcher._event(*parts(event))

        class ParentHandler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                watcher._parent_event(*parts(event))

        self._event_filter = _write_event_filter()

        self.sync.check_folder()
        self.sync.account_dir.mkdir(exist_ok=True)
        for kind in (PollingObserver,) if self._poll else (Observer, PollingObserver):
            observer = kind()
            try:
                observer.schedule(
                    ParentHandler(),
                    str(self.sync.folder),
                    recursive=False,
                    event_filter=self._event_filter,
                )
                observer.start()
            except OSError:  # inotify watch/instance limit, unsupported file system
                continue
            self._observer, self._handler = observer, Handler()
            self.polling = kind is PollingObserver
            self._attach()
            return

    def _attach(self) -> None:
        """Watch the account folder that is there now (again, after it was deleted and made
        again: a watch dies with its folder's inode); a fresh watch looks at the folder once."""
        observer = self._observer  # None once stopped, maybe by another thread meanwhile
        if observer is None:
            return
        try:
            st = os.stat(self.sync.account_dir)
        except OSError:
            return  # not there (yet): the next sync makes it, the next step attaches
        here = (st.st_dev, st.st_ino)
        if here == self._watched and not self._stale and self._alive(self._watch):
            self._attach_changes()
            return
        self._stale = False
        for old in (self._watch, self._changes_watch):  # changes/ is a new folder too
            if old is not None:
                with contextlib.suppress(Exception):  # its emitter may have ended with the folder
                    observer.unschedule(old)
        self._watch = self._changes_watch = None
        self._changes_watched = None
        try:
            # Not recursive: a recursive inotify watch whose folder was deleted could hang the
            # unschedule above (seen in tests/test_quiet_watcher.py); a format with sync files
            # in a sub-folder watches that folder the same way.
            self._watch = observer.schedule(
                self._handler,
                str(self.sync.account_dir),
                recursive=False,
                event_filter=self._event_filter,
            )
        except OSError:
            return  # gone again, or out of watches: tried again at the next step
        if self._watched is not None:
            self._wake.set()  # writes made before the new watch started are looked at now
        self._watched = here

    def _attach_changes(self) -> None:
        """Watch `changes/` too (not recursive, as the account folder), once it exists and again
        whenever it was made anew."""
        observer = self._observer  # None once stopped, maybe by another thread meanwhile
        if observer is None:
            return
        changes = self.sync.account_dir / foldernames.CHANGES
        try:
            st = os.stat(changes)
        except OSError:
            return  # no change file yet: the next step looks again
        here = (st.st_dev, st.st_ino)
        if here == self._changes_watched and self._alive(self._changes_watch):
            return
        if self._changes_watch is not None:
            with contextlib.suppress(Exception):
                observer.unschedule(self._changes_watch)
            self._changes_watch = None
        try:
            self._changes_watch = observer.schedule(
                self._handler, str(changes), recursive=False, event_filter=self._event_filter
            )
        except OSError:
            return
        if self._changes_watched is not None or self._watched is not None:
            self._wake.set()  # files written before the watch started are looked at now
        self._changes_watched = here

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
        """Stop watching; safe to call from several threads at once (the runner's own loop ends
        with a stop while the app or `sync serve` stops the runner): the observer is stopped
        once. Two stops of watchdog's observer raced on its inotify descriptor and the second
        raised EBADF, reported as a sync error at shutdown."""
        self._stop.set()
        self._wake.set()
        with self._stopping:
            observer, self._observer = self._observer, None
        if observer is not None:
            with contextlib.suppress(OSError):  # the watch is going away either way
                observer.stop()
            observer.join(timeout=5)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    # -- syncing ----------------------------------------------------------------------------------
    def run_once(self, retry: bool = False) -> FolderReport | None:
        """Sync if a sync file, the local store or the key slot changed since the last sync
        (`retry`: also after a failed one); None when there was nothing to do."""
        slot = self.sync.vault.slot
        seq = self.sync.vault.store.max_seq()
        before = self._fingerprint()
        if (
            self._nothing_written(before)
            and seq == self._last_seq
            and slot == self._last_slot
            and not (retry and self._failed)
        ):
            self.quiet_looks += 1
            return None
        self.syncs += 1
        try:
            report = self.sync.sync_now()
        except Exception:
            # Not again until something changes (or the rescan): a damaged file is reported
            # once per change, not on every event.
            self._known, self._last_seq, self._last_slot = before, seq, slot
            self._failed = True
            raise
        self._failed = False
        self._last_slot = slot  # the slot this sync wrote with; a change meanwhile shows next time
        self._last_seq = report.local_seq
        self._known = self._settled(before, self._fingerprint(), report)
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
        """Wait up to LOCAL_POLL for a folder event, then sync if a sync file, the local store or
        the key slot (a password changed here) changed; at the periodic rescan, compare too."""
        woke = self._wake.wait(timeout=LOCAL_POLL)
        if self._stop.is_set():
            return
        if woke:
            self._settle()
            self._wake.clear()
        try:
            self._attach()
            rescan = time.monotonic() - self._last_rescan > self.rescan
            if (
                woke
                or rescan
                or self.sync.vault.store.max_seq() != self._last_seq
                or self.sync.vault.slot != self._last_slot
            ):
                if rescan:
                    self._last_rescan = time.monotonic()
                self.run_once(retry=rescan)
                self._attach()  # the sync may have made the account folder again
        except Exception as exc:  # noqa: BLE001 - reported, the watcher keeps running
            if self.on_error:
                self.on_error(exc)

    def run(self) -> None:
        """Block until stop(): event-driven, plus local-change polling and a periodic rescan."""
        while not self._stop.is_set():
            self.step()
