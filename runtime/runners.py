"""Background sync while a device stays unlocked: one set of rules for the app and `sync serve`.

`runner_for(vault, cfg, report)` gives the runner for the configured method:

- folder (`FolderRunner`): a `FolderWatcher` merges other devices' writes and pushes ours. The
  configured folder is never created: while it is missing (a share not mounted yet, a folder
  deleted), the runner says so once and waits, then attaches when it is back;
- Wi-Fi (`WifiRunner`): a `WifiPeer` on its own thread and event loop keeps the device reachable
  and syncs with every peer found (at once, after local changes, and every PEER_INTERVAL seconds);
- cloud (`AutoRunner`): `sync_method.sync_now` after each local change (debounced) and every
  `interval` seconds, with progress on the first sync when the server reports it.

Every runner thread works on its own connection (`Vault.another_connection()`) to the caller's
vault, which may stay in use on the caller's thread. Runners report through `report(SyncEvent)`,
called on the runner's thread: the app wraps the event in a Textual message, the CLI prints it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sync import method as sync_method
from sync.method import SyncOutcome
from vault.words import plural

if TYPE_CHECKING:
    from sync.folder import FolderReport
    from sync.watch import FolderWatcher
    from sync.wifi import PeerInfo, WifiPeer
    from vault.keys import KeySlot, UnlockedKeys
    from vault.vault import Vault

AUTO_DEBOUNCE = 2.0  # seconds without local changes before an automatic (cloud) sync
AUTO_INTERVAL = 60.0  # seconds between automatic syncs when nothing changes here
PEER_INTERVAL = 30.0  # seconds between Wi-Fi syncs with a peer when nothing changes here
PUSH_GAP = 0.5  # at least this long between two Wi-Fi pushes of local changes to one peer
PEER_RETRY = 2.0  # seconds before trying a peer again after a failed session
PEER_TIMEOUT = 3.0  # seconds a manual Wi-Fi sync waits for peers to be found
TICK = 0.5
FOLDER_RETRY = 5.0  # seconds between looks for a missing sync folder (a share not mounted yet)


@dataclass(frozen=True)
class SyncEvent:
    """Something a background sync did, for a front end to show."""

    changed: bool = False  # records changed here: refresh what shows them
    synced: bool = False  # a sync finished (last sync time, pending count changed)
    error: BaseException | None = None
    progress: tuple[int, int] | None = None  # a long first download: (done, total)
    outcome: SyncOutcome | None = None  # what a finished sync did, in words
    status: str | None = None  # what the runner does from now on (also `Runner.live`)
    ended: bool = False  # the runner stopped on `error` and will not retry


Report = Callable[[SyncEvent], None]


def needs_a_person(exc: BaseException) -> bool:
    """Errors that retrying cannot mend: a password changed or the account reset on another
    device, a session the server no longer accepts. The rest (unreachable, missing) heal."""
    from sync.cloud import CloudAuthError
    from vault.errors import EpochChangedError, GenerationChangedError

    return isinstance(exc, EpochChangedError | GenerationChangedError | CloudAuthError)


def missing_folder(folder: Path) -> Exception:
    from sync.errors import SourceUnavailableError

    return SourceUnavailableError(
        f"the sync folder {folder} is missing (not mounted, moved or deleted?); waiting for it: "
        "syncing resumes by itself when it is back (or choose another folder)"
    )


def folder_outcome(report: FolderReport, vault: Vault | None = None) -> SyncOutcome:
    """A folder sync's outcome; with `vault`, the records it kept out of the trash (an edit here
    or there concurrent with a delete), to be told, as `sync now` tells them."""
    kept: tuple[str, ...] = ()
    if vault is not None and report.received:
        kept = tuple(s.title for s in vault.kept_from_trash())
    return SyncOutcome("folder", report.received, report.wrote, report.detail, kept)


class Runner:
    """One method's background work; `sync_now` and `adopt` run on a worker thread (blocking)."""

    def __init__(self, main: Vault, cfg: dict[str, Any], report: Report) -> None:
        self.main = main  # the caller's vault: used only to open this runner's own connections
        self.cfg = cfg
        self.report = report
        self.started = False
        self._live = "starting…"

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Stop and wait for the threads (may block for the length of one sync)."""
        raise NotImplementedError

    def drop_keys(self) -> None:
        """Called at lock time, before the (slower) stop."""

    def peers(self) -> list[PeerInfo]:
        return []

    def sync_now(self, progress: Callable[[int, int], None] | None = None) -> SyncOutcome:
        with self.main.own_connection() as vault:
            return sync_method.sync_now(vault, progress)

    def adopt(self, password: str) -> tuple[KeySlot, UnlockedKeys]:
        """Take the password changed on another device (from the folder's file or the server) on
        a connection of this thread; (slot, keys) for the caller's vault."""
        with self.main.own_connection() as vault:
            sync_method.adopt_new_password(vault, password)
            return vault.slot, vault.keys

    def _reopened(self, vault: Vault) -> Vault | None:
        """A new connection for this thread when the caller's key slot moved on (a password
        changed here), so the change reaches the other devices at once; None otherwise, and
        while the caller is locked or mid-change (looked at again next time)."""
        from vault.errors import VaultError

        if vault.slot == self.main.slot or not self.main.unlocked:
            return None
        try:
            return self.main.another_connection()
        except VaultError:
            return None

    @property
    def live(self) -> str:
        """What runs in the background now (the Sync screen; the CLI prints each change)."""
        return self._live

    def _say(self, status: str) -> None:
        self._live = status
        self.report(SyncEvent(status=status))


class FolderRunner(Runner):
    """A FolderWatcher on the configured folder; while the folder is missing, waits for it."""

    def __init__(self, main: Vault, cfg: dict[str, Any], report: Report) -> None:
        super().__init__(main, cfg, report)
        self.folder = Path(cfg["folder"])
        self._stop = threading.Event()
        self._guard = threading.Lock()
        self._watcher: FolderWatcher | None = None
        self._vault: Vault | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name="strongroom-folder-watch", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            self._vault = self.main.another_connection()
        except Exception as exc:  # noqa: BLE001 - locked meanwhile: said, nothing to sync with
            self.report(SyncEvent(error=exc, ended=True))
            return
        try:
            said_missing = False
            while not self._stop.is_set():
                if not self.folder.is_dir():  # never created here: an unmounted share stays visible
                    if not said_missing:
                        said_missing = True
                        self._live = "waiting for the folder to come back"
                        self.report(SyncEvent(error=missing_folder(self.folder)))
                    self._stop.wait(FOLDER_RETRY)
                    continue
                said_missing = False
                self._watch()
        except Exception as exc:  # noqa: BLE001 - a bug must not end sync silently
            self.report(SyncEvent(error=exc, ended=True))
        finally:
            with self._guard:
                vault, self._vault = self._vault, None
            if vault is not None:
                vault.close()

    def _watch(self) -> None:
        """Watch the folder until stopped or until the folder goes away."""
        from sync.errors import SourceUnavailableError
        from sync.folder import FolderSync
        from sync.watch import FolderWatcher

        assert self._vault is not None
        self._vault.purge_expired()  # the trash's retention, as every `sync now` applies it
        watcher = FolderWatcher(
            FolderSync(self._vault, self.folder),
            on_sync=lambda r: self.report(
                SyncEvent(
                    synced=True,
                    changed=r.received > 0,
                    outcome=folder_outcome(r, watcher.sync.vault),
                )
            ),
            on_error=self._failed,
        )
        try:
            watcher.start()
        except SourceUnavailableError:
            return  # gone again meanwhile: the caller waits for it
        with self._guard:
            self._watcher = watcher
        how = "polling" if watcher.polling else "watching"
        self._say(f"{how} {self.folder} for changes from other devices")
        watcher.wake()  # a first sync at once
        try:
            while not self._stop.is_set() and self.folder.is_dir():
                self._follow_slot(watcher)
                watcher.step()
        finally:
            with self._guard:
                self._watcher = None
            watcher.stop()

    def _failed(self, exc: Exception) -> None:
        if self.folder.is_dir():  # a folder gone is said once, by the waiting loop
            self.report(SyncEvent(error=exc))

    def _follow_slot(self, watcher: FolderWatcher) -> None:
        """A password changed here must reach the file too (the watcher writes on a slot change)."""
        from sync.folder import FolderSync

        vault = self._vault
        fresh = self._reopened(vault) if vault is not None else None
        if vault is None or fresh is None:
            return
        with self._guard:
            self._vault = fresh
        vault.close()
        watcher.sync = FolderSync(fresh, self.folder)

    def drop_keys(self) -> None:
        with self._guard:
            if self._vault is not None:
                self._vault.lock()  # a sync in flight fails with LockedError

    def stop(self) -> None:
        self._stop.set()
        with self._guard:
            watcher = self._watcher
        if watcher is not None:
            watcher.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)


class WifiRunner(Runner):
    """A WifiPeer on its own event loop thread: reachable while unlocked, syncing with peers found."""

    def __init__(self, main: Vault, cfg: dict[str, Any], report: Report) -> None:
        super().__init__(main, cfg, report)
        self.interfaces: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._vault: Vault | None = None
        self._peer: WifiPeer | None = None
        self._ready = threading.Event()
        self._sync_lock = asyncio.Lock()  # one outgoing session at a time (ticks, sync now)
        self._snapshot: list[PeerInfo] = []
        self._synced_seq: dict[str, int] = {}  # peer name -> local seq at our last session with it
        self._tried: dict[str, float] = {}  # peer name -> when we last started a session with it
        self._failing: set[str] = set()  # peers whose last session failed (tried less often)

    def start(self) -> None:
        self.interfaces = sync_method.wifi_interfaces(list(self.cfg.get("interfaces") or []))
        self._vault = self.main.another_connection()
        self._thread = threading.Thread(target=self._run, name="strongroom-wifi", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception as exc:  # noqa: BLE001 - e.g. cannot listen: said; the caller keeps running
            self.report(SyncEvent(error=exc, ended=True))
        finally:
            self._ready.set()

    async def _main(self) -> None:
        from sync.wifi import WifiPeer

        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        assert self._vault is not None
        self._peer = peer = WifiPeer(self._vault, self.interfaces, on_change=self._received)
        try:
            await peer.start()
        finally:
            self._ready.set()
        self._say(
            f"reachable for devices of this account on {', '.join(self.interfaces)} "
            f"(port {peer.port})"
        )
        try:
            while not self._stopping.is_set():
                await self._tick(peer)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), TICK)
        finally:
            await peer.stop()

    def _received(self, ids: list[str]) -> None:
        """Records changed here in a session with a peer (either side started it)."""
        detail = f"{plural('record', len(ids))} updated here from a device of this account"
        self.report(SyncEvent(changed=True, outcome=SyncOutcome("wifi", len(ids), False, detail)))

    async def _tick(self, peer: WifiPeer) -> None:
        """Sync with each peer found that is new, behind our local changes, or due again."""
        from sync.wifi import PasswordChangedElsewhereError, PeerGoneError
        from vault.errors import VaultError

        vault = self._vault
        if vault is None or not vault.unlocked:
            return
        fresh = self._reopened(vault)
        if fresh is not None:  # peers on the old password are refused and told of the new one
            peer.vault = self._vault = fresh
            vault.close()
            vault = fresh
        seq = vault.store.max_seq()
        now = time.monotonic()
        found = peer.peers()
        self._snapshot = [replace(i) for i in found]
        for info in found:
            last = self._tried.get(info.name)
            behind = self._synced_seq.get(info.name) != seq  # local changes it has not had
            if last is not None and (
                now - last < (PEER_RETRY if info.name in self._failing else PUSH_GAP)
                or (not behind and now - last < PEER_INTERVAL)
            ):
                continue
            self._tried[info.name] = now
            async with self._sync_lock:
                covered = vault.store.max_seq()  # what this session sends at least
                result = await peer.sync_with(info.address, info.port, info.name)
            if result.error is None:
                self._failing.discard(info.name)
                # Not the counter after the session: a local write committed while it ran was
                # not sent. (What we received moves it too: one more session, which sends nothing.)
                self._synced_seq[info.name] = covered
                sent = f"{plural('change', result.sent)} sent to {info.name.split('.')[0]}"
                self.report(
                    SyncEvent(synced=True, outcome=SyncOutcome("wifi", 0, result.sent > 0, sent))
                )
            else:
                self._failing.add(info.name)
            if (
                isinstance(result.error, PasswordChangedElsewhereError)
                or result.error is not None
                and not isinstance(result.error, PeerGoneError | VaultError)
            ):  # peers come and go; locked
                self.report(SyncEvent(error=result.error))  # a newer password: ask for it
        self._snapshot = [replace(i) for i in peer.peers()]

    def peers(self) -> list[PeerInfo]:
        return list(self._snapshot)

    def _running(self) -> tuple[asyncio.AbstractEventLoop, WifiPeer, Vault]:
        if (
            not self._ready.wait(10)
            or self._loop is None
            or self._peer is None
            or self._vault is None
        ):
            from sync.errors import SourceUnavailableError

            raise SourceUnavailableError("Wi-Fi sync is not running on this device")
        return self._loop, self._peer, self._vault

    def sync_now(self, progress: Callable[[int, int], None] | None = None) -> SyncOutcome:
        """Sync with every peer found within PEER_TIMEOUT through the running peer."""
        loop, peer, _ = self._running()
        future = asyncio.run_coroutine_threadsafe(self._sync_all(peer), loop)
        return future.result(timeout=PEER_TIMEOUT + 30)

    async def _sync_all(self, peer: WifiPeer) -> SyncOutcome:
        async with self._sync_lock:
            report = await peer.sync_with_all(timeout=PEER_TIMEOUT)
        self._snapshot = [replace(i) for i in peer.peers()]
        return sync_method.wifi_outcome(report, PEER_TIMEOUT)

    def adopt(self, password: str) -> tuple[KeySlot, UnlockedKeys]:
        """Take the password changed on another device, from the key slot a peer on the new
        password handed over; (slot, keys) for the caller's vault. WrongPasswordError if not."""
        loop, peer, vault = self._running()
        slot = asyncio.run_coroutine_threadsafe(peer.adopt_new_password(password), loop).result(60)
        return slot, vault.keys

    def drop_keys(self) -> None:
        if self._vault is not None:
            self._vault.lock()  # sessions in flight fail with LockedError; nothing is served any more

    def stop(self) -> None:
        self.drop_keys()
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._vault is not None:
            self._vault.close()
            self._vault = None


class AutoRunner(Runner):
    """Sync through `sync.method` after local changes (debounced) and on an interval (cloud)."""

    def __init__(
        self, main: Vault, cfg: dict[str, Any], report: Report, interval: float | None = None
    ) -> None:
        super().__init__(main, cfg, report)
        self.interval = interval  # None: AUTO_INTERVAL
        self._stop = threading.Event()
        self._busy = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="strongroom-autosync", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            vault = self.main.another_connection()
        except Exception as exc:  # noqa: BLE001 - locked already
            self.report(SyncEvent(error=exc, ended=True))
            return
        interval = self.interval or AUTO_INTERVAL
        where = f" with {self.cfg['server']}" if self.cfg.get("server") else ""
        self._say(f"syncing{where} after each change and every {interval:g} s")
        try:
            synced_seq, last_sync, changed_at, seen = -1, 0.0, 0.0, -1
            while not self._stop.is_set():
                fresh = self._reopened(vault)
                if fresh is not None:
                    vault.close()
                    vault = fresh
                seq = vault.store.max_seq()
                now = time.monotonic()
                if seq != seen:
                    seen, changed_at = seq, now
                due = (
                    now - last_sync > interval
                    or (seq != synced_seq and now - changed_at >= AUTO_DEBOUNCE)
                    or synced_seq < 0
                )
                if due:
                    last_sync = now
                    synced_seq = seen = self._sync(vault, seq)
                self._stop.wait(TICK)
        finally:
            vault.close()

    def _sync(self, vault: Vault, seq: int) -> int:
        """One sync; the local change counter it covered (tried again on the interval if it failed)."""
        first = not vault.settings().get("last_sync")
        progress = (
            (lambda done, total: self.report(SyncEvent(progress=(done, total)))) if first else None
        )
        try:
            with self._busy:
                outcome = sync_method.sync_now(vault, progress)
        except Exception as exc:  # noqa: BLE001 - reported; tried again on the interval
            if not self._stop.is_set():
                self.report(SyncEvent(error=exc))
            return seq
        self.report(SyncEvent(synced=True, changed=outcome.received > 0, outcome=outcome))
        return vault.store.max_seq()

    def sync_now(self, progress: Callable[[int, int], None] | None = None) -> SyncOutcome:
        with self._busy:
            return super().sync_now(progress)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def runner_for(
    vault: Vault, cfg: dict[str, Any], report: Report, interval: float | None = None
) -> Runner:
    """The runner for the sync method in `cfg` (`sync_method.config(vault)`); not started yet.
    `interval`: seconds between cloud syncs when nothing changes (default AUTO_INTERVAL)."""
    method = cfg.get("method", "none")
    if method == "folder":
        return FolderRunner(vault, cfg, report)
    if method == "wifi":
        return WifiRunner(vault, cfg, report)
    return AutoRunner(vault, cfg, report, interval)
