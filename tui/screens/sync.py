"""The Sync screen: how this device syncs, how current it is, conflicts, Wi-Fi peers; change it.

Keyboard only: f / w / c put the cursor in the folder, Wi-Fi interfaces or server field (Enter
applies), x makes the device local-only, s (or ctrl+r) syncs now, Enter on a conflict opens the
record. Choosing a method restarts the app's background sync (tui/sync_runtime.py).
"""

from __future__ import annotations

import ipaddress
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Header, Input, Label, Static
from textual.worker import Worker, WorkerState

from runtime.safe_text import printable
from vault.words import plural

from ..actions import scope
from ..app_access import strongroom_app
from ..widgets.key_footer import KeyFooter
from ..widgets.record_list import RecordList
from ..widgets.secret_input import SecretInput
from ..workers import work

if TYPE_CHECKING:
    from vault.keys import KeySlot, UnlockedKeys

    from ..app import StrongroomApp

METHOD_NAMES = {
    "none": "None (this device only)",
    "folder": "Folder",
    "wifi": "Wi-Fi",
    "cloud": "Cloud",
}


class SyncConfigError(ValueError):
    """What the user typed cannot be used as a sync setting (shown under the fields)."""


def check_folder(text: str) -> Path:
    """An existing folder this user can write in, as an absolute path."""
    if not text.strip():
        raise SyncConfigError("Type the sync folder's path, for example ~/Dropbox/Strongroom.")
    path = Path(text.strip()).expanduser()
    if not path.is_absolute():
        raise SyncConfigError(
            f"Give the full path of the folder (starting with / or ~), not “{text.strip()}”."
        )
    path = path.resolve()
    if not path.exists():
        raise SyncConfigError(
            f"The folder {path} does not exist. Create it (or start Dropbox/iCloud Drive) first."
        )
    if not path.is_dir():
        raise SyncConfigError(f"{path} is a file, not a folder.")
    if not os.access(path, os.W_OK | os.X_OK):
        raise SyncConfigError(
            f"Strongroom may not write in {path}; choose a folder you can write in."
        )
    return path


def check_interfaces(text: str) -> list[str]:
    """IP addresses separated by commas or spaces; none means every LAN address."""
    addresses = [a for a in text.replace(",", " ").split() if a]
    for a in addresses:
        try:
            ipaddress.ip_address(a)
        except ValueError:
            raise SyncConfigError(
                f"“{a}” is not an IP address; give this device's addresses "
                "(e.g. 192.168.1.20), or leave the field empty for every LAN address."
            ) from None
    return addresses


def check_server(text: str) -> str:
    url = text.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SyncConfigError(
            "Give the account server's address, for example https://sync.example.com."
        )
    return url


def ago(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 86400:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def when(stamp: float | None, now: float) -> str:
    if not stamp:
        return "never"
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(stamp))} ({ago(max(0.0, now - stamp))})"


class SyncScreen(Screen[None]):
    BINDINGS = scope("sync")

    def compose(self) -> ComposeResult:
        def key(action_id: str) -> str:  # as the user's keymap has it
            return f"{self.strongroom.key_of(action_id):<3}"

        yield Header()
        with VerticalScroll(id="sync"):
            yield Static("", id="sync-status")
            yield Static("", id="conflicts-title")
            yield RecordList(id="conflicts")
            yield Static("", id="peers")
            yield Static("[b]Choose how this device syncs[/b] (Enter applies)", id="choose")
            with Horizontal(classes="method"):
                yield Label(f"{key('sync.folder')}Folder")
                yield Input(
                    placeholder="~/Dropbox/Strongroom (a folder Dropbox, iCloud Drive, … syncs)",
                    id="folder",
                )
            with Horizontal(classes="method"):
                yield Label(f"{key('sync.wifi')}Wi-Fi")
                yield Input(
                    placeholder="this device's addresses; empty = every LAN address", id="wifi"
                )
            with Horizontal(classes="method"):
                yield Label(f"{key('sync.cloud')}Cloud")
                yield Input(placeholder="https://sync.example.com (the account server)", id="cloud")
            yield Label(f"{key('sync.local_only')}Local only (sync with nothing)")
            yield Label(
                f"{key('sync.account_key')}Saved account key (folder sync): a new device then "
                "needs no Kit; off by default"
            )
            yield Static("", id="message")
        yield KeyFooter()

    @property
    def strongroom(self) -> StrongroomApp:
        return strongroom_app(self)

    def on_mount(self) -> None:
        from sync.method import config

        vault = self.strongroom.vault
        if vault is not None:
            cfg = config(vault)
            self.query_one("#folder", Input).value = str(cfg.get("folder") or "")
            self.query_one("#wifi", Input).value = ", ".join(cfg.get("interfaces") or [])
            self.query_one("#cloud", Input).value = str(cfg.get("server") or "")
        self.sync_changed()
        self.query_one("#conflicts", RecordList).focus()
        self.set_interval(1.0, self._tick)

    def on_screen_resume(self) -> None:
        self.sync_changed()

    # -- showing ---------------------------------------------------------------------------------
    def sync_changed(self) -> None:
        """Status and conflicts again (called by the sync runtime after each background sync)."""
        from sync.method import status

        vault = self.strongroom.vault
        if vault is None or not vault.unlocked:
            return
        st = status(vault)
        self._status = st
        conflicts = [s for s in vault.summaries() if s.conflict]
        self.query_one("#conflicts", RecordList).set_rows(conflicts)
        self.query_one("#conflicts-title", Static).update(
            Text.assemble(
                ("Conflicts: ", "bold"),
                f"{len(conflicts)}",
                " — Enter opens the record; edit it to resolve" if conflicts else " — none",
            )
        )
        self.query_one("#conflicts", RecordList).display = bool(conflicts)
        self._tick()

    def _tick(self) -> None:
        """Last sync ("12 s ago") and the Wi-Fi peers move on their own: redrawn every second."""
        vault = self.strongroom.vault
        if vault is None or not vault.unlocked or not hasattr(self, "_status"):
            return
        st = self._status
        runtime = self.strongroom.sync_runtime
        now = time.time()
        method = st["method"]
        out = Text()
        out.append("Method          ", style="bold")
        out.append(METHOD_NAMES.get(method, method))
        where = st.get("folder") or st.get("server")
        if method == "wifi":
            where = (
                ", ".join(vault.settings().get("sync", {}).get("interfaces") or [])
                or "every LAN address"
            )
        if where:
            from .settings import tilde

            shown = tilde(Path(where)) if method == "folder" else str(where)
            out.append(f" — {printable(shown)}")
        if runtime.live:  # it names the folder: under the home folder, as ~/…
            live = runtime.live.replace(f"{Path.home()}/", "~/")
            out.append(f"\n                {live}", style="dim")
        out.append("\nLast sync       ", style="bold")
        out.append(when(vault.settings().get("last_sync"), now))
        if method == "folder":
            out.append("\nSaved key       ", style="bold")
            out.append(
                "yes: new devices sign in with the password alone"
                if self._key_saved()
                else "no: new devices need the Kit"
            )
        out.append("\nNot yet synced  ", style="bold")
        out.append("—" if method == "none" else plural("change", st["pending_changes"]))
        if st.get("refused_versions"):  # versions that did not open: kept aside, never merged
            out.append("\nRefused         ", style="bold yellow")
            out.append(
                f"{plural('version', st['refused_versions'])}, not merged — nothing was lost"
            )
            for r in st["refused"][:5]:
                out.append(f"\n                {r['versions']} from {r['source']}: ", style="dim")
                out.append(printable(r["reason"]), style="dim")
        if runtime.progress is not None:
            done, total = runtime.progress
            out.append("\nFirst sync      ", style="bold")
            out.append(f"{done:,} of {total:,}" if total else "in progress…")
        for problem in st.get("folder_problems") or []:
            out.append("\nFolder file     ", style="bold red")
            out.append(
                printable(f"{problem['file']}: {problem['reason']}; {problem['todo']}"),
                style="red",
            )
        if runtime.last_error:
            out.append("\nProblem         ", style="bold red")
            out.append(runtime.last_error, style="red")
        self.query_one("#sync-status", Static).update(out)
        self.query_one("#peers", Static).update(self._peers_text(method, now))

    def _peers_text(self, method: str, now: float) -> Text:
        if method != "wifi":
            return Text()
        peers = self.strongroom.sync_runtime.peers()
        out = Text("Wi-Fi peers", style="bold")
        if not peers:
            out.append(
                "\n  none found yet (other devices of this account need the app open, or "
                "`strongroom sync serve`)",
                style="dim",
            )
        for p in peers:
            out.append(
                f"\n  {printable(p.name.split('.')[0])[:24]:<24} {p.address:<16} last sync {when(p.last_sync, now)}"
            )
            if p.last_error:
                out.append(f"  {printable(p.last_error)[:60]}", style="red")
        return out

    def _key_saved(self) -> bool:
        """Is the Encrypted Account Key saved in the sync folder (the setting is the file itself)?"""
        from sync import folderkey

        vault = self.strongroom.vault
        folder = self._status.get("folder")
        if vault is None or not folder:
            return False
        return folderkey.path_for(Path(folder), vault.slot.account_id).exists()

    def _say(self, message: str, error: bool = False) -> None:
        self.query_one("#message", Static).update(Text(message, style="red" if error else ""))

    # -- choosing --------------------------------------------------------------------------------
    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#conflicts", RecordList).focus()
        else:
            self.app.pop_screen()

    def action_edit(self, field: str) -> None:
        self.query_one(f"#{field}", Input).focus()

    def action_local_only(self) -> None:
        self._choose(
            "none", {}, "This device now syncs with nothing (local only). Your records stay here."
        )

    def action_account_key(self) -> None:
        """Turn the saved account key on or off, after saying plainly what it costs."""
        from sync.folderkey import TRADE_OFF

        from .records import ConfirmScreen

        if (
            not hasattr(self, "_status")
            or self._status["method"] != "folder"
            or not self._status.get("folder")
        ):
            self._say(
                "The saved account key is a folder-sync setting: choose a folder first (f).",
                error=True,
            )
            return
        turn_on = not self._key_saved()
        question = (
            f"{TRADE_OFF}\n\nSave the account key in the folder? (y/n)"
            if turn_on
            else "Remove the saved account key from the folder? New devices will then need the "
            "Authentication Kit to sign in. (y/n)"
        )
        self.app.push_screen(
            ConfirmScreen(question), lambda yes: self._set_account_key(turn_on) if yes else None
        )

    def _set_account_key(self, on: bool) -> None:
        from sync.errors import SyncError
        from sync.folder import FolderSync

        vault = self.strongroom.vault
        if vault is None:
            return
        try:
            FolderSync(vault, Path(self._status["folder"])).save_account_key(on)
        except (SyncError, OSError) as exc:
            self._say(f"The saved account key was not changed: {exc}", error=True)
            return
        self._say(
            "The account key is saved in the folder: a new device signs in with the email and "
            "password alone."
            if on
            else "The saved account key is removed: new devices need the Kit."
        )
        self._tick()

    @on(Input.Submitted, "#folder")
    def _folder(self, event: Input.Submitted) -> None:
        from .settings import tilde

        try:
            folder = check_folder(event.value)
        except SyncConfigError as exc:
            self._say(str(exc), error=True)
            return
        vault = self.strongroom.vault
        assert vault is not None
        self._choose(
            "folder",
            {"folder": str(folder)},
            f"Syncing through {tilde(folder / vault.slot.account_id / 'data.mssb')}; changes from other "
            "devices appear here as they arrive.",
        )

    @on(Input.Submitted, "#wifi")
    def _wifi(self, event: Input.Submitted) -> None:
        try:
            interfaces = check_interfaces(event.value)
        except SyncConfigError as exc:
            self._say(str(exc), error=True)
            return
        self._choose(
            "wifi",
            {"interfaces": interfaces},
            "Wi-Fi sync on: this device is reachable for your other devices while the app is unlocked.",
        )

    @on(Input.Submitted, "#cloud")
    def _cloud(self, event: Input.Submitted) -> None:
        try:
            url = check_server(event.value)
        except SyncConfigError as exc:
            self._say(str(exc), error=True)
            return
        self.strongroom.sync_runtime.link_cloud(url)
        self._say(
            f"Connecting to {url}: signing in to this account there with this device's keys "
            "(or creating it), then a first sync…"
        )
        self.query_one("#conflicts", RecordList).focus()

    def _choose(self, method: str, options: dict[str, Any], message: str) -> None:
        from sync.method import configure

        app = self.strongroom
        assert app.vault is not None
        configure(app.vault, method, **options)
        app.sync_runtime.restart()
        self._say(message)
        self.query_one("#conflicts", RecordList).focus()
        self.sync_changed()

    @on(RecordList.Opened)
    def _open(self, event: RecordList.Opened) -> None:
        from .records import RecordDetailScreen

        self.app.push_screen(RecordDetailScreen(event.record_id))


class NewPasswordScreen(ModalScreen[bool]):
    """Sync met a password changed on another device: type the new one to keep syncing."""

    BINDINGS = scope("newpassword")

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(
                "[b]Your Account Password was changed on another device.[/b]\n\n"
                "Type the new password to keep syncing this device (your Kit stays the same "
                "here). Esc: later — this device keeps its records but does not sync."
            )
            yield SecretInput(id="new-password")
            yield Static("", id="message")

    def on_mount(self) -> None:
        self.query_one("#new-password", SecretInput).focus()

    def action_later(self) -> None:
        self.dismiss(False)

    @on(Input.Submitted, "#new-password")
    def _submit(self, event: Input.Submitted) -> None:
        if not event.value:
            return
        self.query_one("#message", Static).update("Checking the new password…")
        self.query_one("#new-password", SecretInput).disabled = True
        self._adopt(event.value)

    @work(doing="Checking the new password", exclusive=True, shows_errors=True)
    def _adopt(self, password: str) -> Any:
        app = strongroom_app(self)
        return app.sync_runtime.adopt_new_password(password)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        from .account import error_text

        app = strongroom_app(self)
        field = self.query_one("#new-password", SecretInput)
        if event.state is WorkerState.SUCCESS and app.vault is not None:
            slot, keys = cast("tuple[KeySlot, UnlockedKeys]", event.worker.result)
            app.vault.replace_slot(slot, keys)
            app.sync_runtime.restart()
            app.notify("This device now uses the new Account Password; syncing again.")
            self.dismiss(True)
        elif event.state is WorkerState.ERROR and event.worker.error is not None:
            field.disabled = False
            field.value = ""
            field.focus()
            self.query_one("#message", Static).update(
                Text(error_text(event.worker.error), style="red")
            )
