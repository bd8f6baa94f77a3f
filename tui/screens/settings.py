"""Settings: account (Kit, password, Account Key), security times, theme, sync, backups.

Each change is a small screen of its own that both the Settings screen and the command palette
open (`settings_commands`), so a flow exists once. KDF and backup work run in thread workers that
never touch widgets; the worker's state-change handler updates the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Header, Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from runtime.account import MIN_PASSWORD, new_password_problem
from vault.errors import InvalidInputError
from vault.words import plural

from ..actions import bindings, scope
from ..app_access import strongroom_app
from ..messages import BackupsListed, KeysChanged, NewKeys
from ..numbers import AUTO_LOCK, CLIPBOARD, REAUTH, NumberSetting
from ..widgets.key_footer import KeyFooter
from ..widgets.secret_input import SecretInput
from ..widgets.strength_meter import StrengthMeter
from ..workers import work
from .account import KitScreen, error_text

if TYPE_CHECKING:
    from runtime.backups import BackupEntry
    from vault.vault import Vault

    from ..app import StrongroomApp

SSH_THEMES = {
    "ansi-dark": "the terminal's own colours, dark",
    "ansi-light": "the terminal's own colours, light",
}


def tilde(path: Path) -> str:
    """A path as a person reads it: the home folder shown as ~."""
    try:
        inside = path.relative_to(Path.home())
    except ValueError:
        return str(path)
    return "~" if inside == Path() else f"~/{inside}"


def _app(screen: Screen[Any]) -> StrongroomApp:
    app = strongroom_app(screen)
    return app


def _retention_settings() -> tuple[NumberSetting, NumberSetting, NumberSetting]:
    """History and trash retention (vault/history.py defaults); each device applies its own when
    it writes a version or syncs."""
    from vault.history import HISTORY_DAYS, HISTORY_KEEP, TRASH_DAYS

    return (
        NumberSetting(
            "history_keep",
            "Keep how many previous versions of a record? (0 = no limit)",
            "version",
            0,
            100_000,
            HISTORY_KEEP,
            "no limit",
            "the last {n} {unit}",
            saved="Saved: each record keeps up to {n} previous {unit}.",
            saved_zero="Saved: each record keeps every previous version.",
        ),
        NumberSetting(
            "history_days",
            "Keep previous versions for how many days? (0 = no limit)",
            "day",
            0,
            36_500,
            HISTORY_DAYS,
            "no age limit",
            "for {n} {unit}",
            saved="Saved: previous versions are kept for {n} {unit}.",
            saved_zero="Saved: previous versions are kept however old they are.",
        ),
        NumberSetting(
            "trash_days",
            "Purge deleted records after how many days in the trash? (0 = never)",
            "day",
            0,
            36_500,
            TRASH_DAYS,
            "never",
            "after {n} {unit}",
            saved="Saved: deleted records are purged after {n} {unit} in the trash.",
            saved_zero="Saved: deleted records stay in the trash until it is emptied.",
        ),
    )


HISTORY_KEEP_SETTING, HISTORY_DAYS_SETTING, TRASH_DAYS_SETTING = _retention_settings()


def _file_settings() -> tuple[NumberSetting, NumberSetting]:
    """Files' sizes (what `strongroom attach settings` sets): which come down with every sync,
    and the largest one that may be added here."""
    from sync.blobsync import DEFAULT_AUTO_MB
    from vault.attachstore import DEFAULT_MAX_MB, HIGHEST_MAX_MB

    return (
        NumberSetting(
            "attachment_auto_mb",
            "Download files up to how many MiB at every sync? (0 = all on first ask)",
            "MiB",
            0,
            HIGHEST_MAX_MB,
            DEFAULT_AUTO_MB,
            "every one when first saved or opened",
            "up to {n} MiB with every sync, larger ones when first asked for",
            "MiB",
            "download files",
            saved="Saved: files up to {n} MiB come down with every sync, larger ones when first asked for.",
            saved_zero="Saved: every file comes down when first saved or opened.",
        ),
        NumberSetting(
            "attachment_max_mb",
            "Largest file that may be added or imported here, in MiB?",
            "MiB",
            0,
            HIGHEST_MAX_MB,
            DEFAULT_MAX_MB,
            "none may be added",
            "at most {n} MiB each",
            "MiB",
            "files added or imported:",
            saved="Saved: files of up to {n} MiB each may be added or imported.",
            saved_zero="Saved: no file may be added or imported.",
        ),
    )


FILES_FETCH_SETTING, FILES_MAX_SETTING = _file_settings()
NUMBER_SETTINGS = {
    s.key: s
    for s in (
        AUTO_LOCK,
        CLIPBOARD,
        REAUTH,
        HISTORY_KEEP_SETTING,
        HISTORY_DAYS_SETTING,
        TRASH_DAYS_SETTING,
        FILES_FETCH_SETTING,
        FILES_MAX_SETTING,
    )
}


class NumberScreen(ModalScreen[None]):
    """Ask for one number; a bad one is explained and nothing is saved."""

    BINDINGS = bindings("dialog.cancel")

    def __init__(self, setting: NumberSetting) -> None:
        super().__init__()
        self.setting = setting

    def compose(self) -> ComposeResult:
        app = _app(self)
        with Vertical(id="dialog"):
            yield Label(self.setting.question)
            if self.setting.key in app.file_numbers:
                yield Static(
                    f"Set to {app.file_numbers[self.setting.key]} in the settings file "
                    f"({app.settings_file}, [security]): change it there.",
                    markup=False,
                )
                yield Static("Esc closes", classes="muted")
                return
            yield Input(str(self.setting.current(app)), id="number")
            yield Static("", id="message")
            yield Static("Enter saves · Esc cancels", classes="muted")

    def on_mount(self) -> None:
        if self.query("#number"):
            self.query_one("#number", Input).focus()

    @on(Input.Submitted, "#number")
    def _save(self, event: Input.Submitted) -> None:
        app = _app(self)
        try:
            value = self.setting.parse(event.value)
        except InvalidInputError as exc:
            self.query_one("#message", Static).update(Text(str(exc), style="red"))
            self.notify(str(exc), severity="error", markup=False)
            return
        assert app.vault is not None
        app.vault.update_settings(**{self.setting.key: value})
        self.notify(self.setting.notice(value))
        self.dismiss(None)


# -- theme ---------------------------------------------------------------------------------------
def theme_names(app: StrongroomApp) -> list[str]:
    """The terminal-colour themes first (they suit SSH and any terminal palette), then the rest."""
    rest = sorted(n for n in app.available_themes if n not in SSH_THEMES)
    return [n for n in SSH_THEMES if n in app.available_themes] + rest


def set_theme(app: StrongroomApp, name: str) -> None:
    """Apply now and remember it in the vault's settings, which the locked app reads at start."""
    app.theme = name
    if app.vault is not None:
        app.vault.update_settings(theme=name)
    app.notify(f"Theme {name}: kept for the next start.")


class ThemeScreen(ModalScreen[str | None]):
    BINDINGS = bindings("dialog.cancel")

    def compose(self) -> ComposeResult:
        app = _app(self)
        with Vertical(id="dialog"):
            yield Static("[b]Theme[/b] — ↑↓ move · Enter chooses · Esc cancels")
            yield OptionList(
                *(
                    Option(f"{n}  ({SSH_THEMES[n]}; best over SSH)" if n in SSH_THEMES else n, id=n)
                    for n in theme_names(app)
                ),
                id="themes",
            )

    def on_mount(self) -> None:
        themes = self.query_one("#themes", OptionList)
        names = theme_names(_app(self))
        if self.app.theme in names:
            themes.highlighted = names.index(self.app.theme)
        themes.focus()

    @on(OptionList.OptionSelected, "#themes")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


def choose_theme(app: StrongroomApp) -> None:
    def done(name: str | None) -> None:
        if name:
            set_theme(app, name)

    app.push_screen(ThemeScreen(), done)


# -- account: password and Account Key (each issues a new Kit) -----------------------------------
class NewKitScreen(KitScreen):
    """The Kit made by a password change or key rotation: leaves only after y, back to where it was."""

    def __init__(self, kit: Any, paths: list[Path]) -> None:
        super().__init__(kit, paths, first_time=True)

    def action_done(self) -> None:
        self.app.pop_screen()


class _NewKitFlow(Screen[None]):
    """Runs a key change in a worker, saves the new Kit files and shows the new Kit."""

    BINDINGS = scope("newkit")
    done_message = ""
    busy = False

    def on_mount(self) -> None:
        self.query(SecretInput).first().focus()

    def say(self, text: str, style: str = "") -> None:
        self.query_one("#message", Static).update(Text(text, style=style))

    def start(self, change: Callable[[Vault], None]) -> None:
        vault = _app(self).vault
        if self.busy or vault is None:
            return
        self.busy = True
        self.say("Deriving the new keys…")
        self._run(vault, change, _app(self).save_kit_files)

    @work(doing="Making the new keys", exclusive=True, shows_errors=True)
    def _run(
        self, vault: Vault, change: Callable[[Vault], None], save: Callable[[Vault], list[Path]]
    ) -> None:
        """On its own connection; the app's vault takes the new slot and keys on the UI thread."""
        with vault.own_connection() as mine:
            change(mine)
            made = NewKeys(mine.slot, mine.keys, save(mine))
        self.post_message(KeysChanged(made))

    @on(KeysChanged)
    def _changed(self, event: KeysChanged) -> None:
        vault = _app(self).vault
        if vault is None:  # locked meanwhile: the next unlock reads the new slot
            return
        vault.replace_slot(event.made.slot, event.made.keys)
        self.notify(self.done_message)
        self.app.switch_screen(NewKitScreen(event.made.slot.kit, event.made.kit_paths))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.busy = False
            self.say(error_text(event.worker.error), "red")
            for field in self.query(SecretInput):
                field.value = ""
            self.query(SecretInput).first().focus()


class ChangePasswordScreen(_NewKitFlow):
    done_message = "Account Password changed. Older Authentication Kits no longer work."

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form"):
            yield Static(
                "[b]Change the Account Password[/b] — every device needs the new one; a new "
                "Authentication Kit replaces the old one, which stops working."
            )
            yield Label("Current Account Password")
            yield SecretInput(id="current")
            yield Label(f"New Account Password (at least {MIN_PASSWORD} characters)")
            yield SecretInput(id="new")
            yield StrengthMeter(id="strength")
            yield Label("Repeat the new password")
            yield SecretInput(id="repeat")
            yield Static("", id="message")
            yield Static(
                "Enter moves on · ctrl+s changes the password · Esc cancels", classes="muted"
            )
        yield KeyFooter()

    @on(Input.Changed, "#new")
    def _strength(self, event: Input.Changed) -> None:
        self.query_one("#strength", StrengthMeter).show(event.value)

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "repeat":
            self.action_submit()
        else:
            self.focus_next(SecretInput)

    def action_submit(self) -> None:
        current, new, repeat = (
            self.query_one(f"#{k}", SecretInput).value for k in ("current", "new", "repeat")
        )
        problem = None
        if not current:
            problem = "Type the current Account Password first."
        elif rule := new_password_problem(new):
            problem = rule
        elif new != repeat:
            problem = "The two new passwords differ."
        elif new == current:
            problem = "The new password is the current one."
        if problem:
            self.say(problem, "red")
            return

        def change(vault: Vault) -> None:
            from sync.method import change_password
            from vault.keys import unlock

            unlock(vault.slot, current)  # WrongPasswordError unless the person knows it
            change_password(vault, new)  # a cloud device swaps it on the server first

        self.start(change)


class RotateKeyScreen(_NewKitFlow):
    done_message = "Account Key rotated. Older Authentication Kits no longer work."

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form"):
            yield Static(
                "[b]Rotate the Account Key[/b] — a new secret Account Key and a new Authentication "
                "Kit; every older Kit stops working. Your password stays the same."
            )
            yield Label("Account Password (to confirm it is you)")
            yield SecretInput(id="current")
            yield Static("", id="message")
            yield Static("Enter rotates the key · Esc cancels", classes="muted")
        yield KeyFooter()

    @on(Input.Submitted, "#current")
    def action_submit(self) -> None:
        password = self.query_one("#current", SecretInput).value
        if not password:
            self.say("Type the Account Password to confirm.", "red")
            return

        def rotate(vault: Vault) -> None:
            from sync.method import rotate_account_key

            rotate_account_key(
                vault, password
            )  # checks the password first; a cloud device tells the server

        self.start(rotate)


def confirm_rotate(app: StrongroomApp) -> None:
    from .records import ConfirmScreen

    def answered(yes: bool | None) -> None:
        if yes:
            app.push_screen(RotateKeyScreen())

    app.push_screen(
        ConfirmScreen(
            "Rotate the Account Key? You get a new Authentication Kit and every older "
            "Kit stops working. (y/n)"
        ),
        answered,
    )


# -- backups ---------------------------------------------------------------------------------------
class BackupScreen(ModalScreen[Path | None]):
    """Back up now into a folder (default: the home's backup folder, else the last one used)."""

    BINDINGS = bindings("dialog.cancel")
    busy = False

    def compose(self) -> ComposeResult:
        from runtime.backups import chosen_folder

        vault = _app(self).vault
        assert vault is not None
        with Vertical(id="dialog"):
            yield Static(
                "[b]Back up now[/b] — every record, encrypted. The file opens with the current "
                "Account Password (`strongroom backup restore FILE`)."
            )
            yield Label("Folder")
            yield Input(tilde(chosen_folder(vault)), id="folder")
            yield Static("", id="message")
            yield Static("Enter writes the backup · Esc cancels", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#folder", Input).focus()

    @on(Input.Submitted, "#folder")
    def _go(self, event: Input.Submitted) -> None:
        vault = _app(self).vault
        if self.busy or vault is None:
            return
        if not event.value.strip():
            self.query_one("#message", Static).update(Text("Give a folder.", style="red"))
            return
        self.busy = True
        self.query_one("#message", Static).update("Writing the backup…")
        self._write(vault, Path(event.value.strip()).expanduser())

    @work(doing="Writing the backup", exclusive=True, shows_errors=True)
    def _write(self, vault: Vault, folder: Path) -> tuple[Path, int]:
        from runtime.backups import write_backup

        with vault.own_connection() as mine:
            return write_backup(mine, folder)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.SUCCESS:
            result: Any = event.worker.result
            path, count = result
            self.notify(
                f"Backup written to {tilde(path)} ({plural('record', count)}). It opens with the current "
                "Account Password.",
                markup=False,
            )
            self.dismiss(path)
        elif event.state is WorkerState.ERROR and event.worker.error is not None:
            self.busy = False
            self.query_one("#message", Static).update(
                Text(error_text(event.worker.error), style="red")
            )


class RestoreScreen(ModalScreen[None]):
    """Bring records back from a backup: it opens with the password in force when it was made."""

    BINDINGS = bindings("dialog.cancel")
    busy = False

    def __init__(self, entry: BackupEntry) -> None:
        super().__init__()
        self.entry = entry

    def compose(self) -> ComposeResult:
        import time

        made = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.entry.created))
        with Vertical(id="dialog"):
            yield Static(
                Text.assemble(
                    ("Restore from a backup", "bold"),
                    f" — {self.entry.path.name}, made {made}, "
                    f"{plural('record', self.entry.count)}. Deleted or missing records come back; records "
                    "edited since keep their newer version (the backup's goes to their history).",
                )
            )
            yield Label("Account Password in force when the backup was made")
            yield SecretInput(id="password")
            yield Static("", id="message")
            yield Static("Enter restores · Esc cancels", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#password", SecretInput).focus()

    @on(Input.Submitted, "#password")
    def _go(self, event: Input.Submitted) -> None:
        vault = _app(self).vault
        if self.busy or vault is None or not event.value:
            return
        self.busy = True
        self.query_one("#message", Static).update("Restoring…")
        self._restore(vault, self.entry.path, event.value)

    @work(doing="Restoring the backup", exclusive=True, shows_errors=True)
    def _restore(self, vault: Vault, path: Path, password: str) -> Any:
        from vault.backup import restore_backup

        with vault.own_connection() as mine:
            return restore_backup(mine, path, password)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.SUCCESS:
            report: Any = event.worker.result
            self.notify(report.summary(), markup=False, timeout=10)
            self.dismiss(None)
        elif event.state is WorkerState.ERROR and event.worker.error is not None:
            self.busy = False
            field = self.query_one("#password", SecretInput)
            field.value = ""
            field.focus()
            self.query_one("#message", Static).update(
                Text(error_text(event.worker.error), style="red")
            )


# -- the screen --------------------------------------------------------------------------------------
class Overview:
    """The settings overview as rows of section, key and what it does; a long text wraps in
    its own column (a hanging indent), never under the section names."""

    def __init__(self) -> None:
        self.table = Table.grid(padding=(0, 2))
        self.table.add_column(width=8, style="bold", no_wrap=True)  # section
        self.table.add_column(width=3, style="bold", justify="right", no_wrap=True)  # key
        self.table.add_column(ratio=1)

    def append(self, text: str) -> None:
        """A blank line between sections (the callers' `out.append("\n")`)."""
        self.table.add_row("", "", "")


def _row(out: Overview, section: str, key: str, text: str | Text) -> None:
    """One line of the overview: section, the key that changes it (as the keymap has it), what."""
    out.table.add_row(section, key, text if isinstance(text, Text) else Text(text))


class SettingsScreen(Screen[None]):
    BINDINGS = scope("settings")
    backups: dict[str, BackupEntry] = {}

    def __init__(self, *, restore: bool = False) -> None:
        """`restore`: focus the backup list once it is read (the palette's "Restore from a backup")."""
        super().__init__()
        self.restore_first = restore

    def compose(self) -> ComposeResult:
        self.sub_title = "Settings"
        yield Header()
        with VerticalScroll(id="settings"):
            yield Static("", id="overview")
            yield OptionList(id="backup-list")
        yield KeyFooter()

    def on_screen_resume(self) -> None:
        self.refresh_settings()

    def refresh_settings(self) -> None:
        """Redraw from the vault's settings; the backup folder is read in a worker."""
        from runtime.backups import chosen_folder
        from sync.method import config

        app = _app(self)
        vault = app.vault
        if vault is None:
            return

        key = app.key_of
        out = Overview()
        _row(out, "Account", "", f"{vault.slot.email} · Account ID {vault.slot.account_id}")
        _row(
            out,
            "",
            key("settings.show_kit"),
            "show the Authentication Kit (QR code and typed code)",
        )
        _row(
            out,
            "",
            key("settings.save_kit"),
            f"save the Kit as PNG and PDF into {tilde(app.kit_dir)}",
        )
        _row(
            out,
            "",
            key("settings.password"),
            "change the Account Password (a new Kit replaces the old one)",
        )
        _row(
            out,
            "",
            key("settings.rotate_key"),
            "rotate the Account Key (a new Kit; older Kits stop working)",
        )
        out.append("\n")
        _row(
            out,
            "Security",
            key("settings.auto_lock"),
            f"lock when idle: {AUTO_LOCK.describe(AUTO_LOCK.current(app))}",
        )
        _row(
            out,
            "",
            key("settings.clipboard"),
            f"clear copied values: {CLIPBOARD.describe(CLIPBOARD.current(app))}",
        )
        _row(
            out,
            "",
            key("settings.reauth"),
            "ask for the password again before showing a secret or exporting: "
            + REAUTH.describe(REAUTH.current(app))
            + (" (settings file)" if REAUTH.key in app.file_numbers else ""),
        )
        out.append("\n")
        _row(
            out,
            "History",
            key("settings.history_keep"),
            "keep " + HISTORY_KEEP_SETTING.describe(HISTORY_KEEP_SETTING.current(app)),
        )
        _row(
            out,
            "",
            key("settings.history_days"),
            "keep them " + HISTORY_DAYS_SETTING.describe(HISTORY_DAYS_SETTING.current(app)),
        )
        _row(
            out,
            "",
            key("settings.trash_days"),
            "purge the trash " + TRASH_DAYS_SETTING.describe(TRASH_DAYS_SETTING.current(app)),
        )
        out.append("\n")
        _row(
            out,
            "Files",
            key("settings.files_fetch"),
            "download " + FILES_FETCH_SETTING.describe(FILES_FETCH_SETTING.current(app)),
        )
        _row(
            out,
            "",
            key("settings.files_max"),
            "add or import " + FILES_MAX_SETTING.describe(FILES_MAX_SETTING.current(app)),
        )
        out.append("\n")
        _row(
            out,
            "Theme",
            key("settings.theme"),
            f"{app.theme}  (ansi-dark / ansi-light use the terminal's colours: best over SSH)",
        )
        out.append("\n")
        cfg = config(vault)
        where = cfg.get("folder") or cfg.get("server") or ""
        _row(
            out,
            "Sync",
            key("settings.sync"),
            f"method: {cfg.get('method', 'none')}{' · ' + str(where) if where else ''}",
        )
        _row(
            out,
            "",
            key("settings.devices"),
            "the account's devices (remove one with `strongroom devices rm ID`)",
        )
        out.append("\n")
        folder = chosen_folder(vault)
        _row(out, "Backups", key("settings.backup"), f"back up now into {tilde(folder)}")
        _row(out, "", key("settings.restore"), "restore: choose one of these backups (↑↓, Enter)")
        self.query_one("#overview", Static).update(out.table)
        self._list_backups(folder)

    @work(doing="Reading the backup folder", group="backups", exclusive=True)
    def _list_backups(self, folder: Path) -> None:
        from runtime.backups import list_backups

        self.post_message(BackupsListed(folder, list_backups(folder)))

    @on(BackupsListed)
    def _listed(self, event: BackupsListed) -> None:
        import time

        entries = event.entries
        self.backups = {str(e.path): e for e in entries}
        listing = self.query_one("#backup-list", OptionList)
        listing.clear_options()
        if not entries:
            listing.add_option(
                Option(Text("No backups in this folder yet.", style="dim"), disabled=True)
            )
        for e in entries:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.created))
            what = e.problem or f"{e.count} record{'' if e.count == 1 else 's'}"
            listing.add_option(
                Option(
                    Text(f"{when}  {what:<12}  {e.path.name}"),
                    id=str(e.path),
                    disabled=bool(e.problem),
                )
            )
        if self.restore_first:
            self.restore_first = False
            self.action_restore()

    @on(OptionList.OptionSelected, "#backup-list")
    def _restore(self, event: OptionList.OptionSelected) -> None:
        entry = self.backups.get(event.option.id or "")
        if entry is not None:
            self.app.push_screen(RestoreScreen(entry))

    # -- actions ------------------------------------------------------------------------------------
    def action_show_kit(self) -> None:
        vault = _app(self).vault
        if vault is not None:
            self.app.push_screen(KitScreen(vault.slot.kit, []))

    def action_save_kit(self) -> None:
        app = _app(self)
        if app.vault is not None:
            paths = app.save_kit_files(app.vault)
            self.notify("Saved " + ", ".join(tilde(p) for p in paths), markup=False)

    def action_change_password(self) -> None:
        self.app.push_screen(ChangePasswordScreen())

    def action_rotate_key(self) -> None:
        confirm_rotate(_app(self))

    def action_number(self, key: str) -> None:
        self.app.push_screen(NumberScreen(NUMBER_SETTINGS[key]))

    def action_theme(self) -> None:
        choose_theme(_app(self))

    async def action_sync(self) -> None:
        app = _app(self)
        if hasattr(app, "action_sync_settings"):  # the Sync screen, once it has landed
            await app.run_action("sync_settings")
        else:
            self.notify(
                "Choose the sync method with `strongroom sync folder DIR`, `sync wifi` or "
                "`sync cloud URL` for now.",
                markup=False,
            )

    def action_devices(self) -> None:
        from .devices import DevicesScreen

        self.app.push_screen(DevicesScreen())

    def action_backup(self) -> None:
        self.app.push_screen(BackupScreen())

    def action_restore(self) -> None:
        listing = self.query_one("#backup-list", OptionList)
        if not self.backups:
            self.notify("No backups in this folder yet: b makes one.", severity="warning")
            return
        listing.focus()
        if listing.highlighted is None:
            listing.highlighted = 0


def _devices_screen() -> Screen[None]:
    from .devices import DevicesScreen

    return DevicesScreen()


def settings_commands(app: StrongroomApp) -> list[tuple[str, str, Any, str | None]]:
    """The palette entries: every Settings action, reachable from any unlocked screen."""
    return [
        (
            "Settings",
            "Account, security, theme, sync, backups",
            lambda: app.push_screen(SettingsScreen()),
            "records.settings",
        ),
        (
            "Change Account Password",
            "A new Authentication Kit replaces the old one",
            lambda: app.push_screen(ChangePasswordScreen()),
            "settings.password",
        ),
        (
            "Rotate Account Key",
            "A new Authentication Kit; older Kits stop working",
            lambda: confirm_rotate(app),
            "settings.rotate_key",
        ),
        (
            "Auto-lock minutes",
            "Lock after this many idle minutes",
            lambda: app.push_screen(NumberScreen(AUTO_LOCK)),
            "settings.auto_lock",
        ),
        (
            "Clipboard seconds",
            "Clear copied values after this many seconds",
            lambda: app.push_screen(NumberScreen(CLIPBOARD)),
            "settings.clipboard",
        ),
        (
            "Password again: minutes",
            "Ask for the Account Password again before showing a secret or exporting after this",
            lambda: app.push_screen(NumberScreen(REAUTH)),
            "settings.reauth",
        ),
        (
            "History: versions kept",
            "How many previous versions of a record are kept",
            lambda: app.push_screen(NumberScreen(HISTORY_KEEP_SETTING)),
            "settings.history_keep",
        ),
        (
            "History: days kept",
            "How long previous versions are kept",
            lambda: app.push_screen(NumberScreen(HISTORY_DAYS_SETTING)),
            "settings.history_days",
        ),
        (
            "Trash: days kept",
            "Deleted records are purged after this many days, on every device",
            lambda: app.push_screen(NumberScreen(TRASH_DAYS_SETTING)),
            "settings.trash_days",
        ),
        (
            "Files: download at once up to",
            "Files up to this size come down with every sync; larger ones when first asked for",
            lambda: app.push_screen(NumberScreen(FILES_FETCH_SETTING)),
            "settings.files_fetch",
        ),
        (
            "Files: largest allowed",
            "The largest file that may be added or imported on this device",
            lambda: app.push_screen(NumberScreen(FILES_MAX_SETTING)),
            "settings.files_max",
        ),
        (
            "Theme: choose",
            "Colours of the app, kept for the next start",
            lambda: choose_theme(app),
            "settings.theme",
        ),
        ("Theme: terminal colours (SSH)", "ansi-dark", lambda: set_theme(app, "ansi-dark"), None),
        (
            "Devices",
            "The account's devices: name, sync method, first and last seen",
            lambda: app.push_screen(_devices_screen()),
            "settings.devices",
        ),
        (
            "Back up now",
            "An encrypted backup file of every record",
            lambda: app.push_screen(BackupScreen()),
            "settings.backup",
        ),
        (
            "Restore from a backup",
            "Choose a backup in Settings, then its password",
            lambda: app.push_screen(SettingsScreen(restore=True)),
            "settings.restore",
        ),
    ]
