"""Welcome, sign-up, the Kit, sign-in and the lock screen.

Slow work (Argon2id) runs in thread workers that never touch widgets: they return a result and
the `on_worker_state_changed` handler updates the screen, so the UI stays live during the KDF.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Header, Input, Label, RadioButton, RadioSet, Static
from textual.worker import Worker, WorkerState

from ..actions import bindings, scope
from ..app_access import strongroom_app
from ..typeahead import TypedEvent
from ..widgets.key_footer import KeyFooter
from ..widgets.kit_qr import KitQR
from ..widgets.path_input import PathInput
from ..widgets.secret_input import SecretInput
from ..widgets.strength_meter import StrengthMeter
from ..workers import work

if TYPE_CHECKING:
    from runtime.account import Account, SignUp


def error_text(exc: BaseException) -> str:
    """The one-line message the CLI would print, for any error."""
    from runtime.errors import explain

    return explain(exc)[1]


#: From this width the Kit's text stands beside the QR; below it, under the QR.
KIT_SIDE_BY_SIDE = 80


def kit_window_size(qr_lines: list[str]) -> tuple[int, int]:
    """The smallest window (columns, rows) showing the whole terminal QR: its cells, the left
    padding, the header and the footer."""
    return max(len(line) for line in qr_lines) + 1, len(qr_lines) + 2


class WelcomeScreen(Screen[None]):
    BINDINGS = scope("welcome")

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="welcome"):
            yield Static("[b]Welcome to Strongroom[/b]", id="title")
            yield Static(
                "[b]Sign up[/b] (u) — new to Strongroom: create your account on this device. You choose an "
                "Account Password; the device makes a secret Account Key and gives you your Authentication Kit.\n\n"
                "[b]Sign in[/b] (i) — you already have an account on another device: you need your Account "
                "Password, your Authentication Kit (its QR code as PNG/JPG/PDF, or its typed code) and one place "
                "that holds your vault: your sync folder, another device of yours on this network, or your "
                "account server."
            )
            with Horizontal():
                yield Button("Sign up", id="signup", variant="primary")
                yield Button("Sign in", id="signin")
        yield KeyFooter()

    def action_signup(self) -> None:
        self.app.push_screen(SignUpScreen())

    def action_signin(self) -> None:
        self.app.push_screen(SignInScreen())

    @on(Button.Pressed, "#signup")
    def _signup(self) -> None:
        self.action_signup()

    @on(Button.Pressed, "#signin")
    def _signin(self) -> None:
        self.action_signin()


class SignUpScreen(Screen[None]):
    BINDINGS = scope("signup")

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form"):
            yield Label("Email (your username)")
            yield Input(placeholder="you@example.com", id="email")
            yield Label("Account Password (at least 8 characters)")
            yield SecretInput(id="password")
            yield StrengthMeter(id="strength")
            yield Label("Repeat the Account Password")
            yield SecretInput(id="repeat")
            yield Label("Hint (optional; never the password itself)")
            yield Input(id="hint")
            yield Static("", id="message")
            yield Button("Create account (ctrl+s)", id="create", variant="primary")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#email", Input).focus()

    def key_waits(self, event: TypedEvent) -> bool:
        """While the account is being made, keys typed ahead wait for the Kit screen."""
        return self.query_one("#create", Button).disabled

    @on(Input.Changed, "#password")
    def _strength(self, event: Input.Changed) -> None:
        self.query_one("#strength", StrengthMeter).show(event.value)

    @on(Input.Submitted)
    @on(Button.Pressed, "#create")
    def action_submit(self) -> None:
        from runtime.account import new_password_problem, prepare_sign_up
        from vault.errors import VaultError

        app = strongroom_app(self)
        pw = self.query_one("#password", SecretInput).value
        try:  # runtime's rules, the CLI's: the same words for the same mistakes
            plan = prepare_sign_up(
                app.home,
                self.query_one("#email", Input).value,
                kit_dir=app.kit_dir,
                hint=self.query_one("#hint", Input).value,
            )
        except VaultError as exc:
            self.query_one("#message", Static).update(Text(error_text(exc), style="red"))
            return
        problem = new_password_problem(pw)
        if not problem and pw != self.query_one("#repeat", SecretInput).value:
            problem = "The two passwords differ."
        if problem:
            self.query_one("#message", Static).update(Text(problem, style="red"))
            return
        self.query_one("#message", Static).update("Creating your account… (deriving keys)")
        self.query_one("#create", Button).disabled = True
        self._create(plan, pw)

    @work(doing="Creating the account", exclusive=True, shows_errors=True)
    def _create(self, plan: SignUp, password: str) -> Account:
        from runtime.account import sign_up

        return sign_up(plan, password)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.SUCCESS:
            account: Any = event.worker.result
            app = strongroom_app(self)
            app.vault = account.vault
            app.switch_screen(KitScreen(account.vault.slot.kit, account.kit_files, first_time=True))
        elif event.state is WorkerState.ERROR and event.worker.error is not None:
            self.query_one("#create", Button).disabled = False
            self.query_one("#message", Static).update(
                Text(error_text(event.worker.error), style="red")
            )
            strongroom_app(self).type_ahead.resume()  # keys typed ahead apply to this form


class KitScreen(Screen[None]):
    """The Authentication Kit: QR (dark on light), typed code, where the files are.

    The QR needs its whole 41×21 cells (quiet zone included) to scan: the screen scrolls, puts
    the text under the QR when there is no room beside it, and says how big the window must be
    when the QR does not fit."""

    BINDINGS = scope("kit")
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (KIT_SIDE_BY_SIDE, "-wide")]
    DEFAULT_CSS = """
    KitScreen #kit-scroll { scrollbar-size-vertical: 1; }
    KitScreen #kit { height: auto; padding: 0 0 0 1; }
    KitScreen.-wide #kit { layout: horizontal; }
    KitScreen.-narrow #kit { layout: vertical; }
    KitScreen #qr { margin-right: 2; }
    KitScreen.-narrow #qr { margin: 0 0 1 0; }
    KitScreen #kit-text { width: 1fr; height: auto; }
    KitScreen #kit-text Static { margin-bottom: 1; }
    KitScreen #code { text-wrap: nowrap; text-overflow: clip; }
    KitScreen #too-small { display: none; color: $warning; text-style: bold; padding: 0 1; }
    KitScreen.-too-small #too-small { display: block; }
    """

    def __init__(self, kit: Any, paths: list[Path], *, first_time: bool = False) -> None:
        super().__init__()
        self.kit = kit
        self.paths = paths
        self.first_time = first_time

    def compose(self) -> ComposeResult:
        from .settings import tilde

        yield Header()
        with VerticalScroll(id="kit-scroll"):
            yield Static("", id="too-small")
            with Vertical(id="kit"):
                yield KitQR(self.kit, id="qr")
                with Vertical(id="kit-text"):
                    yield Static("[b]Your Authentication Kit[/b]")
                    yield Static(
                        "Scan or save this code. With your Account Password it signs in a new "
                        "device; neither works alone. Keep it somewhere safe."
                    )
                    yield Static(
                        "Code:\n" + "\n".join(self.kit.typed_code_rows()), id="code", markup=False
                    )
                    if self.paths:
                        yield Static(  # a folder name may hold '['
                            "Saved:\n" + "\n".join(tilde(p) for p in self.paths), markup=False
                        )
                    if self.first_time:
                        yield Static("[b]Press y once your Kit is stored safely.[/b]")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#kit-scroll").focus()  # ↑↓ PgUp PgDn scroll at once

    def on_resize(self) -> None:
        self._check_size()

    def on_screen_resume(self) -> None:
        self._check_size()

    def _check_size(self) -> None:
        """Say so when the window cannot show the whole QR (a cut QR does not scan)."""
        qr = self.query_one(KitQR)
        need = kit_window_size(qr.lines)
        have = self.app.size
        small = have.width < need[0] or have.height < need[1]
        self.set_class(small, "-too-small")
        if small:
            self.query_one("#too-small", Static).update(
                f"This window ({have.width}×{have.height}) is too small for a scannable QR code: "
                f"it needs {need[0]}×{need[1]}. Enlarge it, or scroll (↑↓) to the typed code "
                "and the saved files."
            )

    def action_close(self) -> None:
        """Right after sign-up, only y (the acknowledgement) leaves: Esc must not skip it."""
        if self.first_time:
            self.notify(
                "Keep your Kit safe first (the saved files or the code), then press y.",
                severity="warning",
            )
        else:
            self.app.pop_screen()

    def action_done(self) -> None:
        if self.first_time:
            from .records import RecordListScreen

            self.app.switch_screen(RecordListScreen())
        else:
            self.app.pop_screen()


KIT_SUFFIXES = (".png", ".jpg", ".jpeg", ".pdf", ".txt")
SOURCES = ("folder", "wifi", "server")


class SourceChoice(RadioSet):
    """Where the vault comes from; the arrow keys choose at once (no space needed).

    Own actions, not overrides of next/previous_button: RadioSet calls those while mounting, and
    pressing a button then left two buttons on.
    """

    BINDINGS = bindings("signin.next_source", "signin.previous_source")

    def action_choose(self, step: int) -> None:
        if step > 0:
            self.action_next_button()
        else:
            self.action_previous_button()
        self.action_toggle_button()


class SignInScreen(Screen[None]):
    """Link this device to an account: email, password, Kit, and a source for the vault.

    The sources are the CLI's (`signin --folder/--wifi/--server`) with the same backends; the
    key derivation and the network run in a thread worker that reports its progress here.
    """

    DEFAULT_CSS = """
    SignInScreen #source { layout: horizontal; margin-bottom: 1; }
    SignInScreen #source RadioButton { width: auto; margin-right: 3; }
    SignInScreen .source, SignInScreen #new-password { height: auto; }
    SignInScreen .hint { color: $text-muted; }
    """
    BINDINGS = bindings("signin.back", "signin.submit")
    wifi_timeout = 5.0
    """Seconds to look for a device of the account on the network (the CLI's `signin --wifi` too)."""

    def __init__(self, email: str = "") -> None:
        super().__init__()
        self.email = email

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form"):
            yield Label("Email")
            yield Input(self.email, id="email")
            yield Label("Account Password")
            yield SecretInput(id="password")
            yield Label(
                "Authentication Kit: path to its PNG/JPG/PDF (tab completes), or its typed code"
            )
            yield PathInput(
                placeholder="~/Downloads/Strongroom-Authentication-Kit-….pdf or KNJAC-…",
                id="kit",
                suffixes=KIT_SUFFIXES,
            )
            yield Label("Where your vault comes from (←/→ to choose)")
            with SourceChoice(id="source", compact=True):
                yield RadioButton("Sync folder", value=True, id="src-folder")
                yield RadioButton("Wi-Fi: a device of this account", id="src-wifi")
                yield RadioButton("Account server", id="src-server")
            with Vertical(id="via-folder", classes="source"):
                yield Label("Sync folder holding <AccountID>/data.mssb (Dropbox, iCloud Drive, …)")
                yield PathInput(placeholder="~/Dropbox/Strongroom", id="folder", dirs_only=True)
                yield Static(
                    "No Kit at hand? Leave it empty if this folder holds your saved account key.",
                    classes="hint",
                )
            with Vertical(id="via-wifi", classes="source"):
                yield Label(
                    "Network address to use (optional; default: this machine's LAN addresses)"
                )
                yield Input(placeholder="e.g. 192.168.1.20", id="interface")
                yield Static(
                    "Unlock Strongroom on another device of this account on the same network, "
                    "with Wi-Fi sync on.",
                    classes="hint",
                )
            with Vertical(id="via-server", classes="source"):
                yield Label("Account server URL")
                yield Input(placeholder="https://strongroom.example.com", id="server")
                yield Label(
                    "Only after an account reset: the setup code from the reset page (no Kit needed)"
                )
                yield Input(id="reset-code")
                with Vertical(id="new-password"):
                    yield Static(
                        "With a setup code, the Account Password above is your new one: choose it "
                        "and repeat it. A new Kit is made here.",
                        classes="hint",
                    )
                    yield StrengthMeter(id="strength")
                    yield Label("Repeat the new Account Password")
                    yield SecretInput(id="repeat")
            yield Static("", id="message")
            yield Button("Sign in (ctrl+s)", id="go", variant="primary")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._show_source("folder")
        self.query_one("#new-password").display = False
        self.query_one("#email", Input).focus()

    def key_waits(self, event: TypedEvent) -> bool:
        """While signing in, keys typed ahead wait for the record list (or the new Kit); Esc
        does not: it is answered at once (wait for the sign-in), never applied after it ended,
        where it would leave the screen and its message unseen."""
        if isinstance(event, events.Key) and event.key == "escape":
            return False
        return self.query_one("#go", Button).disabled

    @on(Input.Changed, "#reset-code")
    def _reset_code(self, event: Input.Changed) -> None:
        self.query_one("#new-password").display = bool(event.value.strip())

    @on(Input.Changed, "#password")
    def _strength(self, event: Input.Changed) -> None:
        if self.query_one("#new-password").display:
            self.query_one("#strength", StrengthMeter).show(event.value)

    @property
    def reset_code(self) -> str:
        """The setup code typed for the Server source ('' when none): sign in after a reset."""
        return self.query_one("#reset-code", Input).value.strip() if self.source == "server" else ""

    @property
    def source(self) -> str:
        index = self.query_one(SourceChoice).pressed_index
        return SOURCES[index] if index >= 0 else "folder"

    @on(RadioSet.Changed, "#source")
    def _source_changed(self) -> None:
        self._show_source(self.source)

    def _show_source(self, source: str) -> None:
        for name in SOURCES:
            self.query_one(f"#via-{name}").display = name == source

    def action_back(self) -> None:
        """Not while signing in: the worker cannot be stopped halfway and would leave an account here."""
        if self.query_one("#go", Button).disabled:
            self.notify("Signing in… wait for it to finish or fail.", severity="warning")
            return
        self.app.pop_screen()

    def _say(self, text: str | Text) -> None:
        self.query_one("#message", Static).update(text)

    @on(Input.Submitted)
    @on(Button.Pressed, "#go")
    def action_submit(self) -> None:
        if self.query_one("#go", Button).disabled:
            return  # a sign-in is already running
        values = {
            k: self.query_one(f"#{k}", Input).value.strip()
            for k in ("email", "kit", "folder", "interface", "server")
        }
        password = self.query_one("#password", SecretInput).value
        source = self.source
        where = {
            "folder": values["folder"],
            "wifi": values["interface"],
            "server": values["server"],
        }[source]
        code = self.reset_code
        missing = [
            name
            for name, value in (
                ("email", values["email"]),
                ("password", password),
                ("Kit", values["kit"] or source == "folder" or code),
                (
                    {"folder": "sync folder", "server": "server URL"}.get(source, ""),
                    where or source == "wifi",
                ),
            )
            if not value
        ]
        if missing:
            self._say(Text(f"Fill in {', '.join(missing)}.", style="red"))
            return
        from .sync import SyncConfigError, check_folder, check_interfaces, check_server

        try:  # the Sync screen's checks: the same words for the same mistakes
            if source == "folder":
                where = str(check_folder(where))
            elif source == "wifi":
                check_interfaces(where)
            else:
                where = check_server(where)
        except SyncConfigError as exc:
            self._say(Text(str(exc), style="red"))
            return
        if code:
            problem = self._new_password_problem(password)
            if problem:
                self._say(Text(problem, style="red"))
                return
        self._say(
            f"Signing in to {where}…" if source == "server" else "Checking your Kit and password…"
        )
        self.query_one("#go", Button).disabled = True
        self._signin(values["email"], password, "" if code else values["kit"], source, where, code)

    def _new_password_problem(self, password: str) -> str | None:
        """The sign-up rules (runtime's) for the password chosen after a reset."""
        from runtime.account import new_password_problem

        if problem := new_password_problem(password):
            return problem
        if password != self.query_one("#repeat", SecretInput).value:
            return "The two passwords differ."
        return None

    class Progress(Message):
        """How far the sign-in got, posted by the worker thread."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def _progress(self, text: str) -> None:
        """Called from the worker thread. post_message is thread-safe and, unlike call_from_thread,
        never waits for the UI, so a worker cannot hang on a screen that is going away."""
        self.post_message(self.Progress(text))

    def on_sign_in_screen_progress(self, message: Progress) -> None:
        if self.query_one("#go", Button).disabled:  # a late message after the outcome is not shown
            self._say(Text(message.text))

    @work(doing="Signing in", exclusive=True, shows_errors=True)
    def _signin(
        self, email: str, password: str, kit: str, source: str, where: str, code: str = ""
    ) -> tuple[Account, Any]:
        """runtime/account.py decides, as for `strongroom signin`; this screen only shows progress."""
        from runtime.account import (
            FolderSource,
            ServerSource,
            Source,
            WifiSource,
            prepare_sign_in,
            sign_in,
        )

        from .sync import check_interfaces

        app = strongroom_app(self)
        chosen: Source
        if source == "wifi":
            chosen = WifiSource(tuple(check_interfaces(where)))
        elif source == "server":
            chosen = ServerSource(where, code)
        else:
            chosen = FolderSource(Path(where))
        plan = prepare_sign_in(app.home, email, chosen, kit, kit_dir=app.kit_dir)
        account = sign_in(
            plan,
            password,
            on_step=self._progress,
            on_download=self._downloaded,
            wifi_timeout=self.wifi_timeout,
        )
        # the first screenful; the list loads the rest after painting it
        return account, account.vault.summary_head()

    def _downloaded(self, done: int, total: int) -> None:
        """The first download's progress, from the worker thread."""
        if total:
            self._progress(f"Downloading… {min(done, total):,} of {total:,}")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.SUCCESS:
            from .records import RecordListScreen

            app = strongroom_app(self)
            result: Any = event.worker.result
            account, head = result
            app.vault = account.vault
            if account.kept is not None:
                how = (
                    "restore it in Settings with your previous password"
                    if account.kept.suffix == ".srbk"
                    else "an encrypted copy of the old store, opened by your previous password"
                )
                self.notify(
                    f"What this device held before the account reset is kept in "
                    f"{account.kept}: {how}.",
                    markup=False,
                    timeout=30,
                )
            if account.kit_files:  # a new Kit after a reset: shown and acknowledged first
                app.switch_screen(
                    KitScreen(account.vault.slot.kit, account.kit_files, first_time=True)
                )
            else:
                app.switch_screen(RecordListScreen(head))
        elif event.state is WorkerState.ERROR and event.worker.error is not None:
            self.query_one("#go", Button).disabled = False
            self._say(Text(error_text(event.worker.error), style="red"))
            strongroom_app(self).type_ahead.resume()  # keys typed ahead apply to this form


class LockScreen(Screen[None]):
    """The password prompt; skipped when this home's unlock agent is unlocked (its keys are taken).

    Keys typed while the agent is asked, or while unlocking, wait (tui/typeahead.py): they go
    to the record list once it is shown, or to the password field when the app stays locked."""

    def __init__(self) -> None:
        super().__init__()
        self.asking_agent = True  # until the agent answers (no agent: at once)

    def compose(self) -> ComposeResult:
        from runtime.account import met_reset

        app = strongroom_app(self)
        email = app.locked_vault().slot.email if app.has_account() else ""
        kept = met_reset(app.home)
        yield Header()
        with Vertical(id="lock"):
            yield Static(f"[b]Strongroom is locked[/b]\n{email}")
            yield Label("Account Password")
            yield SecretInput(id="password")
            yield Static("", id="message")
            if kept is not None:  # the password still opens what this device held before
                yield Static(
                    Text(
                        "This account was reset on another device, so this device no longer "
                        f"syncs. What it held is kept in {kept}. Sign in again with the new "
                        "password and Kit; the old records stay restorable."
                    ),
                    id="reset-note",
                )
                yield Button("Sign in again", id="signin-again")
        yield KeyFooter()

    @on(Button.Pressed, "#signin-again")
    def _sign_in_again(self) -> None:
        app = strongroom_app(self)
        email = app.locked_vault().slot.email
        app.forget_locked_vault()  # its store is replaced once the new sign-in succeeds
        self.app.push_screen(SignInScreen(email))

    def on_mount(self) -> None:
        self.query_one("#password", SecretInput).focus()
        self._ask_agent()

    def key_waits(self, event: TypedEvent) -> bool:
        return self.asking_agent or self.query_one("#password", SecretInput).disabled

    @on(Input.Submitted, "#password")
    def _submit(self, event: Input.Submitted) -> None:
        if not event.value:
            return
        self.query_one("#message", Static).update("Unlocking…")
        self.query_one("#password", SecretInput).disabled = True
        self._unlock(event.value)

    @work(doing="Asking the unlock agent", group="agent", shows_errors=True)
    def _ask_agent(self) -> Any:
        """The agent's keys (socket IO on the link thread; this worker only waits), or None."""
        app = strongroom_app(self)
        return app.agent_link.keys()

    @work(doing="Unlocking", exclusive=True, shows_errors=True)
    def _unlock(self, password: str | None, keys: Any = None) -> Any:
        app = strongroom_app(self)
        vault = app.locked_vault()
        if keys is not None:
            vault.unlock_with_keys(keys)  # LockedError unless this account's current keys
        else:
            assert password is not None
            vault.unlock(password)
        return (
            vault,
            vault.summary_head(),
        )  # the first screenful; the list loads the rest after painting it

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        field = self.query_one("#password", SecretInput)
        app = strongroom_app(self)
        if event.worker.group == "agent":
            if not event.worker.is_finished:
                return
            keys = event.worker.result if event.state is WorkerState.SUCCESS else None
            self.asking_agent = False
            if (
                keys is not None and not field.disabled and app.vault is None
            ):  # the password was not sent meanwhile
                field.disabled = True
                self.query_one("#message", Static).update("Unlocking with the agent…")
                self._unlock(None, keys)
            else:
                app.type_ahead.resume()  # keys typed meanwhile go to the password field
            return
        if event.state is WorkerState.SUCCESS:
            from .records import RecordListScreen

            result: Any = event.worker.result
            app.vault, head = result
            app.switch_screen(RecordListScreen(head))
        elif event.state is WorkerState.ERROR and event.worker.error is not None:
            field.disabled = False
            field.value = ""
            field.focus()
            self.query_one("#message", Static).update(
                Text(error_text(event.worker.error), style="red")
            )
            app.type_ahead.resume()  # keys typed meanwhile go to the password field
