"""The Strongroom terminal app: keyboard only, safe over SSH.

The app holds at most one unlocked Vault; locking forgets its keys and drops every screen that
showed secrets. Slow work runs in thread workers (tui/workers.py); any of them that fails is
reported here, once: a log line and, unless its screen says it itself, a notification.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App, SystemCommand
from textual.command import Hit, Hits, Provider
from textual.markup import escape
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from agent.client import AgentLink
from runtime.viewer import OpenedCopies
from vault.vault import Vault

from .actions import ACTIONS, SCOPES, bindings
from .app_access import strongroom_app
from .clipboard import SecretClipboard, clipboard_for
from .keymap import current_keys, key_label, keys_taken, read_keymap
from .messages import WorkerFailed
from .numbers import DEFAULT_AUTO_LOCK_MIN, DEFAULT_CLIPBOARD_SECONDS, DEFAULT_REAUTH_MIN
from .store_watch import StoreWatch
from .sync_runtime import SyncActivity, SyncRuntime
from .typeahead import KeyFence, TypeAhead, TypedEvent, follow_screens

log = logging.getLogger("strongroom.app")


class StrongroomCommands(Provider):
    """Every app action in the command palette (ctrl+p)."""

    async def search(self, query: str) -> Hits:
        app = strongroom_app(self)
        matcher = self.matcher(query)
        for name, help_text, callback, action_id in app.palette_commands():
            score = matcher.match(name)
            if score > 0:
                help_text = app.with_key(help_text, action_id, self.screen)
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class AgentLocked(Message):
    """The unlock agent forgot its keys (`strongroom lock`, its timeout): the app locks too."""

    def __init__(self, why: str) -> None:
        super().__init__()
        self.why = why


class SshAsk(Message):
    """An "ask before each use" SSH key is asked to sign (from the agent link's thread)."""

    def __init__(self, question: dict[str, Any]) -> None:
        super().__init__()
        self.question = question


class SshAsked(Message):
    """A question is closed elsewhere (another app answered, it expired, the vault locked)."""

    def __init__(self, ask_id: int) -> None:
        super().__init__()
        self.ask_id = ask_id


class StrongroomApp(App[None]):
    TITLE = "Strongroom"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {StrongroomCommands}
    BINDINGS = bindings("app.lock", "app.help", "app.palette", "app.quit")

    def __init__(
        self, home: Path, kit_dir: Path | None = None, settings_file: Path | None = None
    ) -> None:
        """`settings_file`: the user's settings.toml (keymap.settings_file()); None: defaults only."""
        super().__init__()
        self.home = home
        if kit_dir is None:
            from runtime.kitfiles import default_kit_folder

            kit_dir = default_kit_folder()  # documents or home, never where the app was started
        self.kit_dir = kit_dir
        self.user_keymap = read_keymap(settings_file)
        from .numbers import read_file_numbers

        #: [security] numbers of the settings file: they win over the values kept in the vault
        self.file_numbers, self._file_problems = read_file_numbers(settings_file)
        self.settings_file = settings_file
        self._proven_at = 0.0  # when the Account Password was last typed or a secret shown
        self.sync_runtime = SyncRuntime(self)
        self._vault: Vault | None = None
        self.store_watch: StoreWatch | None = None
        self._locked: Vault | None = None
        self._last_input = time.monotonic()
        self._secret_clipboard: SecretClipboard | None = None
        #: plaintext copies of files handed to the system viewer: deleted on lock and quit
        self.opened_copies = OpenedCopies()
        self.type_ahead = TypeAhead(self, self._deliver_key, self._key_passes)
        self.agent_link = AgentLink(
            home,
            on_locked=self._post_agent_locked,
            is_unlocked=lambda: self.vault is not None,
            last_activity=lambda: self._last_input,
            on_ssh_ask=lambda q: self._post_from_link(SshAsk(q)),
            on_ssh_asked=lambda i: self._post_from_link(SshAsked(i)),
        )

    # -- account state ----------------------------------------------------------------------
    @property
    def vault(self) -> Vault | None:
        return self._vault

    @vault.setter
    def vault(self, vault: Vault | None) -> None:
        """Every unlock and lock goes through here: background sync runs only while unlocked,
        and so does watching the store for changes made elsewhere."""
        self._vault = vault
        if vault is not None:
            self._proven_at = time.monotonic()  # an unlock (here or in the agent) just happened
        self.store_watch = StoreWatch(vault) if vault is not None and vault.unlocked else None
        self.sync_runtime.follow(vault)

    def records_changed(self) -> None:
        """Records changed (a sync, or another process on this home): every screen that shows
        them reads them again; an edit form keeps what was typed (it rebases on save)."""
        if self.store_watch is not None:
            self.store_watch.catch_up()
        for screen in self.screen_stack:
            reload = getattr(screen, "reload", None)
            if callable(reload):
                reload()

    def _check_store(self) -> None:
        """Once a second while unlocked (tui/store_watch.py): a commit by the CLI or another
        connection that stored records refreshes the screens."""
        watch = self.store_watch
        if watch is not None and self.vault is not None and watch.changed():
            self.records_changed()

    def on_sync_activity(self, message: SyncActivity) -> None:
        self.sync_runtime.handle(message)

    # -- the one error path of every worker ---------------------------------------------------
    def on_worker_failed(self, message: WorkerFailed) -> None:
        """A screen's worker raised (tui.workers.work posts this from the worker thread)."""
        self.report_failure(message.doing, message.where, message.error, shown=message.shown)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's own workers (background sync): one that ends in an error is reported too."""
        error = event.worker.error
        if event.state is WorkerState.ERROR and error is not None:
            doing = f"Background work ({event.worker.group})"
            self.report_failure(doing, type(self).__name__, error, shown=False)

    def report_failure(self, doing: str, where: str, error: BaseException, *, shown: bool) -> None:
        """A log line always; a notification unless the screen already shows the error. The text
        is the one both front ends use (runtime.errors), never a value the work handled."""
        from runtime.errors import message_for

        text = message_for(error)
        log.error("%s failed on %s: %s: %s", doing, where, type(error).__name__, text)
        if not shown:
            self.notify(
                f"{doing} failed: {text}", title="Error", severity="error", timeout=20, markup=False
            )

    def on_unmount(self) -> None:
        self.secret_clipboard.clear()  # however the app ends
        self.opened_copies.clear()
        self.sync_runtime.stop(wait=True)
        self.agent_link.stop()

    def has_account(self) -> bool:
        return Vault.exists(self.home)

    def locked_vault(self) -> Vault:
        if self._locked is None:
            self._locked = Vault.open(self.home)
            for fix in self._locked.permission_fixes:  # made owner-only again on open
                self.notify(fix, title="Made private", severity="warning", timeout=15)
        return self._locked

    def settings(self) -> dict[str, Any]:
        return self.vault.settings() if self.vault else {}

    def number_setting(self, key: str, default: int) -> int:
        """A number setting: the settings file's [security] value, else the vault's, else
        `default` (a stored value that is not a number counts as none)."""
        if key in self.file_numbers:
            return self.file_numbers[key]
        try:
            return int(self.settings().get(key, default))
        except (TypeError, ValueError):
            return default

    # -- the Account Password again before secrets are shown -------------------------------------
    def password_is_fresh(self) -> bool:
        minutes = self.number_setting("reauth_minutes", DEFAULT_REAUTH_MIN)
        return minutes <= 0 or time.monotonic() - self._proven_at <= minutes * 60

    def after_password(self, what: str, then: Any) -> None:
        """Run `then()` now while the password is fresh, else once it is typed again in a modal
        (ReauthScreen; Esc: never). Each secret shown counts as use and keeps it fresh."""
        if self.password_is_fresh():
            self._proven_at = time.monotonic()
            then()
            return
        from .screens.reauth import ReauthScreen

        def typed(ok: bool | None) -> None:
            if ok and self.vault is not None:
                self._proven_at = time.monotonic()
                then()

        self.push_screen(ReauthScreen(what), typed)

    def on_mount(self) -> None:
        from .screens.account import LockScreen, WelcomeScreen

        self.agent_link.start()
        follow_screens(self, self.type_ahead)
        self._apply_keymap()
        if self.has_account():
            self._apply_saved_theme()
            self.push_screen(LockScreen())
        else:
            self.push_screen(WelcomeScreen())
        self.set_interval(1.0, self._tick)

    # -- keys -------------------------------------------------------------------------------
    def _apply_keymap(self) -> None:
        """The settings file's [keymap]: its good entries apply, each bad one is reported."""
        self.set_keymap(self.user_keymap.keys)
        palette = current_keys(self.user_keymap.keys, "app.palette")
        # Textual's footer looks the palette's key up by this (a ClassVar: set on this app only)
        vars(self)["COMMAND_PALETTE_BINDING"] = palette[0]
        for problem in self.user_keymap.problems + keys_taken(self.user_keymap.keys):
            self.notify(problem, title="Keymap", severity="error", timeout=15, markup=False)
        for problem in self._file_problems:
            self.notify(problem, title="Settings file", severity="error", timeout=15, markup=False)

    def keys_of(self, action_id: str) -> list[str]:
        """An action's keys as they are now (after the user's keymap), for people to read."""
        return [key_label(k) for k in current_keys(self.user_keymap.keys, action_id)]

    def is_key_of(self, event: events.Event, action_id: str) -> bool:
        """Whether `event` is a key of the action now (after the user's keymap)."""
        return isinstance(event, events.Key) and event.key in current_keys(
            self.user_keymap.keys, action_id
        )

    def key_of(self, action_id: str) -> str:
        """An action's first key now, for people to read ("ctrl+r", "?")."""
        return self.keys_of(action_id)[0]

    def with_key(self, text: str, action_id: str | None, screen: Screen[Any]) -> str:
        """A palette help text and the action's current key: "… (ctrl+r)" where the palette was
        opened from a screen that has the key, else "… (p in Settings)". Markup-safe (a key may
        be "["): the palette reads help as markup."""
        if action_id is None:
            return escape(text)
        key = self.key_of(action_id)
        here = action_id.startswith("app.") or any(
            b.binding.id == action_id for b in screen.active_bindings.values()
        )
        where = "" if here else f" in {SCOPES[ACTIONS[action_id].scope]}"
        return escape(f"{text} ({key}{where})")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Lock only while unlocked: the footer hides it on the welcome and lock screens."""
        if action == "lock":
            return self.vault is not None
        return True

    def _apply_saved_theme(self) -> None:
        """The theme chosen in Settings; not secret, so it is read before unlocking."""
        name = self.locked_vault().settings().get("theme")
        if isinstance(name, str) and name in self.available_themes:
            self.theme = name

    def action_settings(self) -> None:
        if self.vault is not None:
            from .screens.settings import SettingsScreen

            self.push_screen(SettingsScreen())

    def save_kit_files(self, vault: Vault) -> list[Path]:
        """PNG + PDF of the Kit into kit_dir (documents, else home), numbered, never over a file."""
        from runtime.kitfiles import save_kit

        return save_kit(vault.slot, self.kit_dir)

    def forget_locked_vault(self) -> None:
        """Close the locked vault kept for the lock screen: signing in again replaces its store."""
        if self._locked is not None:
            self._locked.close()
            self._locked = None

    # -- locking ----------------------------------------------------------------------------
    def action_lock(self, tell_agent: bool = True) -> None:
        """Forget the keys; unless the agent itself just locked, tell it to forget its keys too."""
        if self.vault is None:
            return
        from .screens.account import LockScreen

        self.sync_runtime.stop()
        if tell_agent:
            self.agent_link.lock()  # queued before the lock screen asks the agent for keys
        self.vault.lock()
        self._locked = self.vault
        self.vault = None
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(LockScreen())
        self.secret_clipboard.clear()
        self.opened_copies.clear()

    def _post_agent_locked(self, why: str) -> None:
        """From the link thread: post_message is thread-safe; a closed app just drops it."""
        try:
            self.post_message(AgentLocked(why))
        except RuntimeError:  # the event loop is already closed
            pass

    def _post_from_link(self, message: Message) -> None:
        try:
            self.post_message(message)
        except RuntimeError:  # the event loop is already closed
            pass

    def on_ssh_ask(self, message: SshAsk) -> None:
        """Show the question; the answer goes back to the agent (refused if the app is locked)."""
        from .screens.sshask import SshAskScreen

        ask_id = int(message.question["id"])
        if self.vault is None:
            self.agent_link.answer_ssh(ask_id, False)
            return

        def answered(allow: bool | None) -> None:
            self.agent_link.answer_ssh(ask_id, bool(allow))
            if allow:
                self.notify("Allowed one SSH signature.")

        self.push_screen(SshAskScreen(message.question), answered)

    def on_ssh_asked(self, message: SshAsked) -> None:
        from .screens.sshask import SshAskScreen

        # Only the top screen can be dismissed; one under another modal stays until answered,
        # and the agent ignores an answer to a question it has closed.
        screen = self.screen
        if isinstance(screen, SshAskScreen) and screen.ask_id == message.ask_id:
            screen.dismiss(False)

    def on_agent_locked(self, message: AgentLocked) -> None:
        if self.vault is None:
            return
        self.action_lock(tell_agent=False)
        reason = {
            "timeout": "the unlock agent's idle timeout passed",
            "gone": "this device's data folder is gone",
        }.get(message.why, "`strongroom lock` ran")
        self.notify(f"Locked: {reason}.")

    async def on_event(self, event: events.Event) -> None:
        """Every key counts as activity, also those an Input consumes (App.on_key never sees them).
        Keys and pastes from the terminal go through the type-ahead gate (tui/typeahead.py)."""
        if isinstance(event, events.Key):
            self._last_input = time.monotonic()
        if isinstance(event, events.Key | events.Paste) and not event.is_forwarded:
            await self.type_ahead.take(self._enter_from_newline(event))
            return
        await super().on_event(event)

    def _enter_from_newline(self, event: TypedEvent) -> TypedEvent:
        """A newline (ctrl+j) is Enter: what a terminal still in line mode sends for the Enter
        of a password typed while the app starts (and some terminals always). Unless the
        user's keymap gives ctrl+j to an action."""
        if not isinstance(event, events.Key) or event.key != "ctrl+j":
            return event
        if any("ctrl+j" in keys.split(",") for keys in self.user_keymap.keys.values()):
            return event
        return events.Key("enter", "\r")

    async def _deliver_key(self, event: TypedEvent) -> None:
        """Textual's own handling of a key: priority bindings, else to the focused widget."""
        await super().on_event(event)

    def _key_passes(self, event: TypedEvent) -> bool:
        """Quit never waits behind held keys."""
        return self.is_key_of(event, "app.quit")

    async def on_key_fence(self, fence: KeyFence) -> None:
        await self.type_ahead.fence_back(fence)

    def _tick(self) -> None:
        """The app's one timer: auto-lock, and changes made elsewhere."""
        self._check_idle()
        self._check_store()

    def _check_idle(self) -> None:
        if self.vault is None:
            return
        minutes = self.number_setting("auto_lock_minutes", DEFAULT_AUTO_LOCK_MIN)
        if minutes > 0 and time.monotonic() - self._last_input > minutes * 60:
            self.action_lock()
            self.notify("Locked after being idle.")

    # -- clipboard ---------------------------------------------------------------------------
    @property
    def secret_clipboard(self) -> SecretClipboard:
        """tmux / the desktop's clipboard tool / OSC 52 (tui/clipboard.py), chosen on first use."""
        if self._secret_clipboard is None:
            self._secret_clipboard = clipboard_for(
                self.copy_to_clipboard, headless=self.is_headless
            )
        return self._secret_clipboard

    def copy_secret(self, value: str, what: str) -> None:
        """Copy a secret; it is taken back after the clipboard seconds, on lock and on quit."""
        self.secret_clipboard.copy(value)
        seconds = self.number_setting("clipboard_seconds", DEFAULT_CLIPBOARD_SECONDS)
        self.notify(f"Copied the {what}; the clipboard clears in {seconds:.0f} s.")
        if seconds > 0:
            self.set_timer(seconds, partial(self.secret_clipboard.clear_if, value))

    async def action_quit(self) -> None:
        self.secret_clipboard.clear()  # its timer dies with the app
        await super().action_quit()

    # -- palette, help ------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's commands minus "Screenshot", which would write revealed secrets to disk."""
        for cmd in super().get_system_commands(screen):
            if "screenshot" not in cmd.title.lower():
                yield cmd

    def palette_commands(self) -> list[tuple[str, str, Any, str | None]]:
        """(name, help, run, action id whose key the palette shows, or None)."""
        cmds: list[tuple[str, str, Any, str | None]] = [
            ("Help: keys", "Every key binding", self.action_help, "app.help")
        ]
        if self.vault is not None:
            from .screens.account import KitScreen
            from .screens.records import EditRecordScreen, SecurityCenterScreen
            from .screens.settings import settings_commands

            vault = self.vault
            cmds += [
                ("Lock", "Forget the keys now", self.action_lock, "app.lock"),
                (
                    "New record",
                    "Add a record",
                    lambda: self.push_screen(EditRecordScreen(None)),
                    "records.new",
                ),
                (
                    "Security Center",
                    "Weak, reused and old passwords",
                    lambda: self.push_screen(SecurityCenterScreen()),
                    "records.security",
                ),
                (
                    "Show Authentication Kit",
                    "QR code and typed code",
                    lambda: self.push_screen(KitScreen(vault.slot.kit, [])),
                    "settings.show_kit",
                ),
                (
                    "Save Authentication Kit",
                    "PNG and PDF into the current folder",
                    self._save_kit,
                    "settings.save_kit",
                ),
                (
                    "Import…",
                    "Records from another manager's export (preview first)",
                    self.action_import_records,
                    "records.import",
                ),
                (
                    "Export…",
                    "Every record to a plaintext CSV or strongroom-json file",
                    self.action_export_records,
                    None,
                ),
                (
                    "Sync now",
                    "Sync with the chosen method",
                    self.action_sync_now,
                    "records.sync_now",
                ),
                (
                    "Sync settings",
                    "Method, last sync, conflicts, Wi-Fi peers",
                    self.action_sync_settings,
                    "records.sync",
                ),
            ]
            cmds += settings_commands(self)
        return cmds

    def action_import_records(self) -> None:
        from .screens.importer import ImportScreen

        if self.vault is not None:
            self.push_screen(ImportScreen())

    def action_export_records(self) -> None:
        from .screens.importer import ExportScreen

        if self.vault is not None:
            self.push_screen(ExportScreen(self.kit_dir))

    def _save_kit(self) -> None:
        assert self.vault is not None
        paths = self.save_kit_files(self.vault)
        self.notify("Saved " + ", ".join(str(p) for p in paths))

    def action_sync_now(self) -> None:
        if self.vault is not None:
            self.sync_runtime.sync_now()

    def action_sync_settings(self) -> None:
        from .screens.sync import SyncScreen

        if self.vault is not None and not isinstance(self.screen, SyncScreen):
            self.push_screen(SyncScreen())

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        self.push_screen(HelpScreen(here=self.screen))
