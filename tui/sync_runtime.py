"""The app's background sync: `runtime.runners` while unlocked, shown in the UI.

`SyncRuntime.follow(vault)` (called whenever the app's vault changes) starts the runner for the
configured method (runtime/runners.py: folder watch, Wi-Fi peer, cloud polling; the same runners
`strongroom sync serve` runs) when the vault is unlocked and stops it otherwise, so locking stops
all background sync.

Runners never touch widgets: their `SyncEvent`s arrive here as `SyncActivity` messages
(`post_message` is thread-safe and non-blocking); the app hands them back to `SyncRuntime.handle`
on the UI thread, which refreshes the record list and the Sync screen, turns errors into
notifications and asks for a password changed on another device. Manual syncs and linking to an
account server run in thread workers and report the same way.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

from runtime.runners import Runner, SyncEvent, runner_for
from runtime.safe_text import printable

if TYPE_CHECKING:
    from sync.wifi import PeerInfo
    from vault.vault import Vault

    from .app import StrongroomApp

START_DELAY = (
    1.0  # seconds after unlock: the record list paints before the first sync competes for the CPU
)


class SyncActivity(Message):
    """A runner's `SyncEvent` (or a manual sync's), posted from any thread to the app."""

    def __init__(
        self, session: int, event: SyncEvent, *, manual: bool = False, linked: str | None = None
    ) -> None:
        super().__init__()
        self.session = session
        self.event = event
        self.manual = manual  # from a worker the user started (sync now, link to a server)
        self.linked = linked  # this device now syncs through the account server at this URL


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
        self.told_kept: set[str] = set()  # titles already said kept out of the trash

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

        def post(event: SyncEvent) -> None:
            self.app.post_message(SyncActivity(number, event))

        self._session = _Session(number, method, runner_for(vault, cfg, post))
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

        def post(event: SyncEvent, linked: str | None = None) -> None:
            self.app.post_message(SyncActivity(session.number, event, manual=True, linked=linked))

        try:
            with vault.own_connection() as private:
                link_existing(
                    private, url, lambda done, total: post(SyncEvent(progress=(done, total)))
                )
        except Exception as exc:  # noqa: BLE001 - shown as a notification; nothing was changed
            post(SyncEvent(error=exc))
        else:
            post(SyncEvent(synced=True, changed=True), linked=url)

    def _manual(self, vault: Vault, session: _Session) -> None:
        """Worker thread: never touches widgets, reports through a message."""

        def post(event: SyncEvent) -> None:
            self.app.post_message(SyncActivity(session.number, event, manual=True))

        try:
            runner = (
                session.runner
                if session.runner and session.runner.started
                else Runner(vault, {}, post)
            )
            outcome = runner.sync_now(lambda done, total: post(SyncEvent(progress=(done, total))))
        except Exception as exc:  # noqa: BLE001 - shown as a notification
            post(SyncEvent(error=exc))
        else:
            post(SyncEvent(outcome=outcome, synced=True, changed=outcome.received > 0))

    # -- messages (UI thread) -----------------------------------------------------------------
    def handle(self, msg: SyncActivity) -> None:
        ev = msg.event
        if msg.manual and ev.progress is None:
            self._manual_busy = False  # the worker's last message
        if msg.session != self._session.number and not msg.manual:
            # From a runner stopped since (lock, method or password changed): its errors are stale,
            # but records it merged are in the store, and the next runner will not report them again.
            if ev.changed and self.app.vault is not None:
                self._refresh_screens(True)
            return
        if self.app.vault is None:
            return
        if (ev.synced or ev.changed) and self.app.vault.follow_key_change():
            # the runner followed a device removal made elsewhere: the app's keys move with it
            self.app.notify(
                "A device was removed from this account on another device: this device took "
                "the new keys (nothing to do; older Kits no longer work).",
                markup=False,
            )
            self._refresh_screens(True)
        if ev.progress is not None:
            done, total = ev.progress
            self.progress = ev.progress
            self.app.sub_title = f"First sync {done:,} of {total:,}" if total else "Syncing…"
        elif self.progress is not None:
            self.progress = None
            self.app.sub_title = ""
        if ev.error is not None and self._password_changed(ev.error, again=msg.manual):
            pass  # asked for the new password instead
        elif ev.error is not None:
            self._notify_error(ev.error, again=msg.manual)
        elif ev.synced and self.last_error is not None and not msg.manual:
            self.last_error = None
            self.app.notify("Sync works again.")
        if ev.outcome is not None and msg.manual:  # background syncs show in the list and status
            self.app.notify(f"Synced: {ev.outcome.detail}.", markup=False)
        if ev.outcome is not None and ev.outcome.kept_from_trash:
            self._tell_kept(ev.outcome.kept_from_trash)
        if msg.linked is not None:
            self.app.notify(
                f"Cloud sync through {msg.linked}: this account is on the server and in sync; "
                "changes sync as you make them.",
                markup=False,
            )
            self.restart()
        if ev.changed or ev.synced or ev.error is not None or ev.status is not None:
            self._refresh_screens(ev.changed)

    def _tell_kept(self, titles: tuple[str, ...]) -> None:
        """Edited on one device while deleted on another: the edit stays, out of the trash; each
        record said once per session of the app."""
        new = [t for t in titles if t not in self.told_kept]
        if not new:
            return
        self.told_kept.update(new)
        names = ", ".join(f"“{printable(t)}”" for t in new)
        self.app.notify(
            f"Kept out of the trash: {names} — edited on one device while deleted on another.",
            severity="warning",
            markup=False,
        )

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
        runner = self._session.runner or Runner(main, {}, lambda event: None)
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
        if changed:
            self.app.records_changed()
        for screen in self.app.screen_stack:
            if hasattr(screen, "sync_changed"):
                screen.sync_changed()
