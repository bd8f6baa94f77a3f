"""Sync in the background while the app is unlocked: folder watcher, Wi-Fi peer, automatic sync.

`SyncRuntime.follow(vault)` (called whenever the app's vault changes) starts the runner for the
configured method when the vault is unlocked and stops it otherwise, so locking stops all
background sync. Runners:

- folder: a `FolderWatcher` (own_connection=True) merges other devices' writes and pushes ours;
- Wi-Fi: a `WifiPeer` on its own thread and event loop keeps the device reachable and syncs with
  every peer found (at once, after local changes, and every PEER_INTERVAL seconds);
- any other method (cloud): `sync.method.sync_now` after each local change (debounced) and every
  AUTO_INTERVAL seconds, with progress on the first sync when the backend reports it.

Runners work on their own Vault of the same home (a second SQLite connection unlocked with the
UI vault's keys): one connection shared by the UI thread and another thread fails. They never
touch widgets: they post `SyncActivity` messages to the app (thread-safe, non-blocking); the
app hands them back to `SyncRuntime.handle` on the UI thread, which refreshes the record list
and the Sync screen and turns errors into notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

from sync import method as sync_method

if TYPE_CHECKING:
    from sync.method import SyncOutcome
    from sync.wifi import PeerInfo
    from vault.vault import Vault

    from .app import StrongroomApp

AUTO_DEBOUNCE = 2.0  # seconds without local changes before an automatic (cloud) sync
AUTO_INTERVAL = 60.0  # seconds between automatic syncs when nothing changes here
PEER_INTERVAL = 30.0  # seconds between Wi-Fi syncs with a peer when nothing changes here
PEER_TIMEOUT = 3.0  # seconds a manual Wi-Fi sync waits for peers to be found
TICK = 0.5
FOLDER_RETRY = 5.0  # seconds between looks for a missing sync folder (a share not mounted yet)
START_DELAY = (
    1.0  # seconds after unlock: the record list paints before the first sync competes for the CPU
)


class SyncActivity(Message):
    """Something happened in a background sync (posted from any thread to the app)."""

    def __init__(
        self,
        session: int,
        *,
        changed: bool = False,
        synced: bool = False,
        error: Exception | None = None,
        progress: tuple[int, int] | None = None,
        outcome: SyncOutcome | None = None,
        manual: bool = False,
        linked: str | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.changed = changed  # records changed here: refresh the list
        self.synced = synced  # a sync finished (last sync time, pending count changed)
        self.error = error
        self.progress = progress
        self.outcome = outcome
        self.manual = manual  # from a worker the user started (sync now, link to a server)
        self.linked = linked  # this device now syncs through the account server at this URL


class Runner:
    """One method's background work; `sync_now` runs on a worker thread (blocking)."""

    def __init__(self, main: Vault, cfg: dict[str, Any], post: Callable[..., None]) -> None:
        self.main = main
        self.cfg = cfg
        self.post = (
            post  # post(changed=…, synced=…, error=…, progress=…): a SyncActivity of this session
        )
        self.started = False

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Stop and wait for the threads (may block for the length of one sync)."""
        raise NotImplementedError

    def drop_keys(self) -> None:
        """Called on the UI thread at lock time, before the (slower) stop."""

    def peers(self) -> list[PeerInfo]:
        return []

    def sync_now(self, progress: Callable[[int, int], None] | None = None) -> SyncOutcome:
        vault = self.main.another_connection()
        try:
            return sync_method.sync_now(vault, progress)
        finally:
            vault.close()

    def adopt(self, password: str) -> tuple[Any, Any]:
        """Worker thread: take the password changed on another device (from the folder's file or
        the server) on a private connection; (slot, keys) for the UI vault."""
        private = self.main.another_connection()
        try:
            sync_method.adopt_new_password(private, password)
            return private.slot, private.keys
        finally:
            private.close()

    @property
    def live(self) -> str:
        """What runs in the background, for the Sync screen."""
        return ""


class FolderRunner(Runner):
    """A FolderWatcher; while the folder is missing (share not mounted yet), waits for it."""

    def start(self) -> None:
        self.watcher: Any = None
        self._stop = threading.Event()
        self._guard = threading.Lock()
        folder = Path(self.cfg["folder"])
        if folder.is_dir():
            self._watch(folder)
            return
        # The watcher would create the folder: never hide an unmounted share. Say so, then wait.
        self.post(
            error=_unavailable(
                f"the sync folder {folder} is missing (not mounted, moved or deleted?); "
                "reconnect it (syncing resumes by itself) or choose another in Sync settings"
            )
        )
        threading.Thread(
            target=self._wait_for, args=(folder,), name="strongroom-folder-wait", daemon=True
        ).start()

    def _wait_for(self, folder: Path) -> None:
        while not self._stop.wait(FOLDER_RETRY):
            if folder.is_dir():
                self._watch(folder)
                return

    def _watch(self, folder: Path) -> None:
        from sync.folder import FolderSync
        from sync.watch import FolderWatcher

        with self._guard:
            if self._stop.is_set():
                return
            self.watcher = FolderWatcher(
                FolderSync(self.main, folder),
                own_connection=True,
                on_sync=lambda report: self.post(synced=True),
                on_change=lambda report: self.post(changed=True),
                on_error=lambda exc: self.post(error=exc),
            )
            self.watcher.start_background()

    def stop(self) -> None:
        with self._guard:
            self._stop.set()
            if self.watcher is not None:
                self.watcher.stop()

    @property
    def live(self) -> str:
        if self.watcher is None:
            return "waiting for the folder to come back"
        how = "polling" if self.watcher.polling else "watching"
        return f"{how} the folder for changes from other devices"


class WifiRunner(Runner):
    """A WifiPeer on its own event loop thread: reachable while unlocked, syncing with peers found."""

    def __init__(self, main: Vault, cfg: dict[str, Any], post: Callable[..., None]) -> None:
        super().__init__(main, cfg, post)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._vault: Vault | None = None
        self._peer: Any = None
        self._ready = threading.Event()
        self._snapshot: list[PeerInfo] = []
        self._synced_seq: dict[str, int] = {}  # peer name -> local seq at our last session with it
        self._tried: dict[str, float] = {}  # peer name -> when we last started a session with it

    def start(self) -> None:
        from sync.method import wifi_interfaces

        self.interfaces = wifi_interfaces(list(self.cfg.get("interfaces") or []))
        self._vault = self.main.another_connection()
        self._thread = threading.Thread(target=self._run, name="strongroom-wifi", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception as exc:  # noqa: BLE001 - shown as a notification; the app keeps running
            self.post(error=exc)
        finally:
            self._ready.set()

    async def _main(self) -> None:
        from sync.wifi import WifiPeer

        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._sync_lock = asyncio.Lock()
        assert self._vault is not None
        self._peer = WifiPeer(
            self._vault, self.interfaces, on_change=lambda ids: self.post(changed=True)
        )
        try:
            await self._peer.start()
        finally:
            self._ready.set()
        try:
            while not self._stopping.is_set():
                await self._tick()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), TICK)
        finally:
            await self._peer.stop()

    async def _tick(self) -> None:
        """Sync with each peer found that is new, behind our local changes, or due again."""
        from sync.wifi import PasswordChangedElsewhereError, PeerGoneError
        from vault.errors import VaultError

        if self._vault is None or not self._vault.unlocked:
            return
        seq = self._vault.store.max_seq()
        now = time.monotonic()
        found = self._peer.peers()
        self._snapshot = [_copy(i) for i in found]
        for info in found:
            last = self._tried.get(info.name)
            if (
                last is not None
                and now - last < PEER_INTERVAL
                and (self._synced_seq.get(info.name) == seq or now - last < AUTO_DEBOUNCE)
            ):
                continue
            self._tried[info.name] = now
            async with self._sync_lock:
                result = await self._peer.sync_with(info.address, info.port, info.name)
            if result.error is None:
                self._synced_seq[info.name] = self._vault.store.max_seq() if self._vault else seq
                self.post(synced=True)
            elif isinstance(result.error, PasswordChangedElsewhereError) or not isinstance(
                result.error, PeerGoneError | VaultError
            ):  # peers come and go; locked
                self.post(error=result.error)  # a newer password: the app asks for it
        self._snapshot = [_copy(i) for i in self._peer.peers()]

    def peers(self) -> list[PeerInfo]:
        return list(self._snapshot)

    def sync_now(self, progress: Callable[[int, int], None] | None = None) -> SyncOutcome:
        """Sync with every peer found within PEER_TIMEOUT through the running peer."""
        if not self._ready.wait(10) or self._loop is None or self._peer is None:
            raise _unavailable("Wi-Fi sync is not running on this device")
        future = asyncio.run_coroutine_threadsafe(self._sync_all(), self._loop)
        return future.result(timeout=PEER_TIMEOUT + 30)

    async def _sync_all(self) -> SyncOutcome:
        from sync.method import SyncOutcome
        from sync.wifi import PasswordChangedElsewhereError

        async with self._sync_lock:
            report = await self._peer.sync_with_all(timeout=PEER_TIMEOUT)
        for err in report.errors:
            if isinstance(err, PasswordChangedElsewhereError):
                raise err
        if not report.results:
            raise _unavailable(
                f"no device of this account answered on the network within {PEER_TIMEOUT:.0f} s; "
                "is another device running `strongroom sync serve` or the app?"
            )
        detail = f"{len(report.synced)} peer(s) synced, {report.received} record(s) updated here, {report.sent} sent"
        if report.errors:
            detail += "; " + "; ".join(str(e) for e in report.errors[:3])
        self._snapshot = [_copy(i) for i in self._peer.peers()]
        return SyncOutcome("wifi", report.received, report.sent > 0, detail)

    def adopt(self, password: str) -> tuple[Any, Any]:
        """Worker thread: take the password changed on another device, from the key slot a peer on
        the new password handed over; (slot, keys) for the UI vault. WrongPasswordError if it is not."""
        if (
            not self._ready.wait(10)
            or self._loop is None
            or self._peer is None
            or self._vault is None
        ):
            raise _unavailable("Wi-Fi sync is not running on this device")
        slot = asyncio.run_coroutine_threadsafe(
            self._peer.adopt_new_password(password), self._loop
        ).result(60)
        return slot, self._vault.keys

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

    @property
    def live(self) -> str:
        where = ", ".join(getattr(self, "interfaces", []))
        port = self._peer.port if self._peer is not None else 0
        return (
            f"reachable for devices of this account on {where} (port {port})"
            if port
            else "starting…"
        )


def _copy(info: PeerInfo) -> PeerInfo:
    from dataclasses import replace

    return replace(info)


def _unavailable(message: str) -> Exception:
    from sync.errors import SourceUnavailableError

    return SourceUnavailableError(message)


class AutoRunner(Runner):
    """Sync through sync.method after local changes (debounced) and on an interval (cloud)."""

    def start(self) -> None:
        self._stop = threading.Event()
        self._busy = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="strongroom-autosync", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            vault = self.main.another_connection()
        except Exception as exc:  # noqa: BLE001 - locked already
            self.post(error=exc)
            return
        try:
            synced_seq, last_sync, changed_at, seen = -1, 0.0, 0.0, -1
            while not self._stop.is_set():
                seq = vault.store.max_seq()
                now = time.monotonic()
                if seq != seen:
                    seen, changed_at = seq, now
                due = (
                    now - last_sync > AUTO_INTERVAL
                    or (seq != synced_seq and now - changed_at >= AUTO_DEBOUNCE)
                    or synced_seq < 0
                )
                if due:
                    last_sync = now
                    first = not vault.settings().get("last_sync")
                    progress = (
                        (lambda done, total: self.post(progress=(done, total))) if first else None
                    )
                    try:
                        with self._busy:
                            outcome = sync_method.sync_now(vault, progress)
                    except Exception as exc:  # noqa: BLE001 - notified; tried again on the interval
                        synced_seq = seq
                        if not self._stop.is_set():
                            self.post(error=exc)
                    else:
                        synced_seq = seen = vault.store.max_seq()
                        self.post(synced=True, changed=outcome.received > 0, progress=None)
                self._stop.wait(TICK)
        finally:
            vault.close()

    def sync_now(self, progress: Callable[[int, int], None] | None = None) -> SyncOutcome:
        with self._busy:
            return super().sync_now(progress)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    @property
    def live(self) -> str:
        return f"syncing after each change and every {AUTO_INTERVAL:.0f} s"


RUNNERS: dict[str, type[Runner]] = {"folder": FolderRunner, "wifi": WifiRunner}


@dataclass
class _Session:
    number: int
    method: str
    runner: Runner | None
    asked_password: bool = False


class SyncRuntime:
    """The app's background sync: started on unlock, stopped on lock, restarted on a method change."""

    def __init__(self, app: StrongroomApp) -> None:
        self.app = app
        self._session = _Session(0, "none", None)
        self._manual_busy = False
        self.progress: tuple[int, int] | None = None
        self.last_error: str | None = None

    # -- lifecycle (UI thread) ----------------------------------------------------------------
    def follow(self, vault: Vault | None, delay: float = START_DELAY) -> None:
        """Run what the vault's sync method needs while it is unlocked (after `delay` s); nothing otherwise."""
        self.stop(wait=False)
        if vault is None or not vault.unlocked:
            return
        from sync.method import config

        cfg = config(vault)
        method = str(cfg.get("method", "none"))
        number = self._session.number + 1
        if method == "none":
            self._session = _Session(number, method, None)
            return

        def post(**kw: Any) -> None:
            self.app.post_message(SyncActivity(number, **kw))

        self._session = _Session(number, method, RUNNERS.get(method, AutoRunner)(vault, cfg, post))
        self.last_error = None
        if delay > 0:
            self.app.set_timer(delay, lambda: self._start(number))
        else:
            self._start(number)

    def _start(self, number: int) -> None:
        runner = self._session.runner
        if self._session.number != number or runner is None:
            return  # locked or changed meanwhile
        try:
            runner.start()
        except Exception as exc:  # noqa: BLE001 - e.g. no network interface: said, app keeps going
            self._session = _Session(number, self._session.method, None)
            self._notify_error(exc)
            return
        runner.started = True

    def restart(self) -> None:
        """After the user chose a method: start at once."""
        self.follow(self.app.vault, delay=0)

    def stop(self, wait: bool = False) -> None:
        """Stop background sync; keys held by runners are dropped at once, threads end behind."""
        runner = self._session.runner
        self._session = _Session(self._session.number + 1, "none", None)
        self.progress = None
        if runner is None or not runner.started:
            return
        runner.drop_keys()
        if wait:
            runner.stop()
        else:
            threading.Thread(target=runner.stop, name="strongroom-sync-stop", daemon=True).start()

    # -- what the Sync screen shows -----------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._session.runner is not None and self._session.runner.started

    @property
    def live(self) -> str:
        runner = self._session.runner
        return (
            runner.live if runner is not None and runner.started else "starting…" if runner else ""
        )

    def peers(self) -> list[PeerInfo]:
        runner = self._session.runner
        return runner.peers() if runner is not None else []

    # -- manual sync --------------------------------------------------------------------------
    def sync_now(self) -> None:
        """Sync once in a thread worker; the outcome or error arrives as a notification."""
        vault = self.app.vault
        if vault is None:
            return
        if self._manual_busy:
            self.app.notify("A sync is already running.")
            return
        from sync.method import config

        if config(vault).get("method", "none") == "none":
            self.app.notify(
                "This device syncs with nothing yet: choose a method in Sync settings (y).",
                severity="warning",
            )
            return
        self._manual_busy = True
        self.app.notify("Syncing…", timeout=2)
        session = self._session
        self.app.run_worker(
            lambda: self._manual(vault, session), thread=True, group="sync-now", exit_on_error=False
        )

    def link_cloud(self, url: str) -> None:
        """Cloud chosen in the Sync screen: like `sync cloud URL`, sign in to this account on the
        server with this device's keys (or create it there), then a first sync with progress."""
        vault = self.app.vault
        if vault is None:
            return
        if self._manual_busy:
            self.app.notify("A sync is already running.")
            return
        self._manual_busy = True
        self.app.notify(f"Connecting to {url}…", timeout=3, markup=False)
        session = self._session
        self.app.run_worker(
            lambda: self._link(vault, url, session),
            thread=True,
            group="sync-link",
            exit_on_error=False,
        )

    def _link(self, vault: Vault, url: str, session: _Session) -> None:
        """Worker thread, on its own connection; reports through messages."""
        from sync.cloudlink import link_existing

        def post(**kw: Any) -> None:
            self.app.post_message(SyncActivity(session.number, manual=True, **kw))

        try:
            private = vault.another_connection()
            try:
                link_existing(private, url, lambda done, total: post(progress=(done, total)))
            finally:
                private.close()
        except Exception as exc:  # noqa: BLE001 - shown as a notification; nothing was changed
            post(error=exc)
        else:
            post(linked=url, synced=True, changed=True)

    def _manual(self, vault: Vault, session: _Session) -> None:
        """Worker thread: never touches widgets, reports through a message."""

        def post(**kw: Any) -> None:
            self.app.post_message(SyncActivity(session.number, manual=True, **kw))

        try:
            runner = (
                session.runner
                if session.runner and session.runner.started
                else Runner(vault, {}, post)
            )
            outcome = runner.sync_now(lambda done, total: post(progress=(done, total)))
        except Exception as exc:  # noqa: BLE001 - shown as a notification
            post(error=exc)
        else:
            post(outcome=outcome, synced=True, changed=outcome.received > 0)

    # -- messages (UI thread) -----------------------------------------------------------------
    def handle(self, msg: SyncActivity) -> None:
        if msg.manual and msg.progress is None:
            self._manual_busy = False  # the worker's last message
        if msg.session != self._session.number and not msg.manual:
            # From a runner stopped since (lock, method or password changed): its errors are stale,
            # but records it merged are in the store, and the next runner will not report them again.
            if msg.changed and self.app.vault is not None:
                self._refresh_screens(True)
            return
        if self.app.vault is None:
            return
        if msg.progress is not None:
            done, total = msg.progress
            self.progress = msg.progress
            self.app.sub_title = f"First sync {done:,} of {total:,}" if total else "Syncing…"
        elif self.progress is not None:
            self.progress = None
            self.app.sub_title = ""
        if msg.error is not None and self._password_changed(msg.error, again=msg.manual):
            pass  # asked for the new password instead
        elif msg.error is not None:
            self._notify_error(msg.error, again=msg.manual)
        elif msg.synced and self.last_error is not None and not msg.manual:
            self.last_error = None
            self.app.notify("Sync works again.")
        if msg.outcome is not None:
            self.app.notify(f"Synced: {msg.outcome.detail}.", markup=False)
        if msg.linked is not None:
            self.app.notify(
                f"Cloud sync through {msg.linked}: this account is on the server and in sync; "
                "changes sync as you make them.",
                markup=False,
            )
            self.restart()
        if msg.changed or msg.synced or msg.error is not None:
            self._refresh_screens(msg.changed)

    def _password_changed(self, exc: BaseException, again: bool = False) -> bool:
        """The password was changed on another device: ask for the new one (the folder's file, the
        server or the Wi-Fi peer that told us holds the new key slot)."""
        from runtime.errors import explain
        from vault.errors import EpochChangedError

        from .screens.sync import NewPasswordScreen

        if not isinstance(exc, EpochChangedError) or self._session.method == "none":
            return False
        self.last_error = explain(exc)[1]  # shown on the Sync screen until it is solved
        shown = any(isinstance(s, NewPasswordScreen) for s in self.app.screen_stack)
        if not shown and (
            again or not self._session.asked_password
        ):  # Esc means "not now": ask again on ctrl+r
            self._session.asked_password = True
            self.app.push_screen(NewPasswordScreen())
        return True

    def adopt_new_password(self, password: str) -> tuple[Any, Any]:
        """Worker thread: take the password changed elsewhere on a private connection; returns the
        new (slot, keys) for the UI vault. WrongPasswordError when it is not the new password."""
        main = self.app.vault
        if main is None:
            from vault.errors import LockedError

            raise LockedError("the vault was locked meanwhile")
        runner = self._session.runner or Runner(main, {}, lambda **kw: None)
        return runner.adopt(password)

    def _notify_error(self, exc: BaseException, again: bool = False) -> None:
        """Each distinct background error once (a missing folder is retried every second)."""
        from runtime.errors import explain

        text = explain(exc)[1]
        if text == self.last_error and not again:
            return
        if not again:
            self.last_error = text
        self.app.notify(f"Sync failed: {text}", severity="error", timeout=10, markup=False)

    def _refresh_screens(self, changed: bool) -> None:
        for screen in self.app.screen_stack:
            if changed and hasattr(screen, "reload"):
                screen.reload()
            if hasattr(screen, "sync_changed"):
                screen.sync_changed()
