"""Welcome, sign-up, the Kit, sign-in and the lock screen.

Slow work (Argon2id) runs in thread workers that never touch widgets: they return a result and
the `on_worker_state_changed` handler updates the screen, so the UI stays live during the KDF.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Static
from textual.worker import Worker, WorkerState

from ..widgets.kit_qr import KitQR
from ..widgets.secret_input import SecretInput
from ..widgets.strength_meter import StrengthMeter

if TYPE_CHECKING:
    from ..app import StrongroomApp


def error_text(exc: BaseException) -> str:
    """The one-line message the CLI would print, for any error."""
    from ..context import exit_code_for

    return exit_code_for(exc)[1]


class WelcomeScreen(Screen[None]):
    BINDINGS = [Binding("u", "signup", "Sign up"), Binding("i", "signin", "Sign in"), Binding("q", "app.quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="welcome"):
            yield Static("[b]Welcome to Strongroom[/b]", id="title")
            yield Static(
                "[b]Sign up[/b] (u) — new to Strongroom: create your account on this device. You choose an "
                "Account Password; the device makes a secret Account Key and gives you your Authentication Kit.\n\n"
                "[b]Sign in[/b] (i) — you already have an account on another device: you need your Account "
                "Password and your Authentication Kit (its QR code as PNG/JPG/PDF, or its typed code).")
            with Horizontal():
                yield Button("Sign up", id="signup", variant="primary")
                yield Button("Sign in", id="signin")
        yield Footer()

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
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("ctrl+s", "submit", "Create account")]

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
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#email", Input).focus()

    @on(Input.Changed, "#password")
    def _strength(self, event: Input.Changed) -> None:
        self.query_one("#strength", StrengthMeter).show(event.value)

    @on(Input.Submitted)
    @on(Button.Pressed, "#create")
    def action_submit(self) -> None:
        email = self.query_one("#email", Input).value.strip()
        pw = self.query_one("#password", SecretInput).value
        repeat = self.query_one("#repeat", SecretInput).value
        problem = None
        if "@" not in email or "." not in email.split("@")[-1]:
            problem = "Enter a valid email address."
        elif len(pw) < 8:
            problem = "The Account Password needs at least 8 characters."
        elif pw != repeat:
            problem = "The two passwords differ."
        if problem:
            self.query_one("#message", Static).update(f"[red]{problem}[/red]")
            return
        self.query_one("#message", Static).update("Creating your account… (deriving keys)")
        self.query_one("#create", Button).disabled = True
        self._create(email, pw, self.query_one("#hint", Input).value)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _create(self, email: str, password: str, hint: str) -> Any:
        from vault.vault import Vault

        app: StrongroomApp = self.app  # type: ignore[assignment]
        vault = Vault.create(app.home, email, password, hint=hint)
        paths = app.save_kit_files(vault)
        return vault, paths

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.SUCCESS:
            result: Any = event.worker.result
            vault, paths = result
            app: StrongroomApp = self.app  # type: ignore[assignment]
            app.vault = vault
            app.switch_screen(KitScreen(vault.slot.kit, paths, first_time=True))
        elif event.state is WorkerState.ERROR and event.worker.error is not None:
            self.query_one("#create", Button).disabled = False
            self.query_one("#message", Static).update(Text(error_text(event.worker.error), style="red"))


class KitScreen(Screen[None]):
    """The Authentication Kit: QR (dark on light), typed code, where the files are."""

    BINDINGS = [Binding("y", "done", "I stored my Kit safely"), Binding("escape", "close", "Close", show=False)]

    def __init__(self, kit: Any, paths: list[Path], *, first_time: bool = False) -> None:
        super().__init__()
        self.kit = kit
        self.paths = paths
        self.first_time = first_time

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="kit"):
            yield KitQR(self.kit, id="qr")
            with Vertical(id="kit-text"):
                yield Static("[b]Your Authentication Kit[/b]")
                yield Static("Scan or save this code. With your Account Password it signs in a new device; "
                             "neither works alone. Keep it somewhere safe.")
                yield Static(f"Code:\n{self.kit.to_typed_code()}", id="code")
                yield Static("Saved:\n" + "\n".join(str(p) for p in self.paths) if self.paths else "",
                             markup=False)  # a folder name may hold '['
                if self.first_time:
                    yield Static("[b]Press y once your Kit is stored safely.[/b]")
        yield Footer()

    def action_close(self) -> None:
        """Right after sign-up, only y (the acknowledgement) leaves: Esc must not skip it."""
        if self.first_time:
            self.notify("Keep your Kit safe first (the saved files or the code), then press y.", severity="warning")
        else:
            self.app.pop_screen()

    def action_done(self) -> None:
        if self.first_time:
            from .records import RecordListScreen

            self.app.switch_screen(RecordListScreen())
        else:
            self.app.pop_screen()


class SignInScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("ctrl+s", "submit", "Sign in")]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form"):
            yield Label("Email")
            yield Input(id="email")
            yield Label("Account Password")
            yield SecretInput(id="password")
            yield Label("Authentication Kit: path to its PNG/JPG/PDF, or its typed code")
            yield Input(placeholder="~/Downloads/Strongroom-Authentication-Kit-….pdf or KNJAC-…", id="kit")
            yield Label("Sync folder holding <AccountID>/data.mssb (Dropbox, iCloud Drive, …)")
            yield Input(placeholder="~/Dropbox/Strongroom", id="folder")
            yield Static("", id="message")
            yield Button("Sign in (ctrl+s)", id="go", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#email", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#go")
    def action_submit(self) -> None:
        values = {k: self.query_one(f"#{k}", Input).value.strip() for k in ("email", "kit", "folder")}
        password = self.query_one("#password", SecretInput).value
        if not values["email"] or not password or not values["kit"] or not values["folder"]:
            self.query_one("#message", Static).update("[red]Fill in email, password, Kit and sync folder.[/red]")
            return
        self.query_one("#message", Static).update("Checking your Kit and password…")
        self._signin(values["email"], password, values["kit"], values["folder"])

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _signin(self, email: str, password: str, kit_text: str, folder: str) -> Any:
        from sync.folder import bootstrap_from_folder
        from vault.kitfile import read_kit_file, read_kit_text

        path = Path(kit_text).expanduser()
        kit = read_kit_file(path) if path.exists() or "/" in kit_text or "." in kit_text else read_kit_text(kit_text)
        app: StrongroomApp = self.app  # type: ignore[assignment]
        return bootstrap_from_folder(app.home, Path(folder).expanduser(), email, password, kit)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.SUCCESS:
            from .records import RecordListScreen

            app: StrongroomApp = self.app  # type: ignore[assignment]
            app.vault = event.worker.result
            app.switch_screen(RecordListScreen())
        elif event.state is WorkerState.ERROR and event.worker.error is not None:
            self.query_one("#message", Static).update(Text(error_text(event.worker.error), style="red"))


class LockScreen(Screen[None]):
    BINDINGS = [Binding("ctrl+q", "app.quit", "Quit")]

    def compose(self) -> ComposeResult:
        app: StrongroomApp = self.app  # type: ignore[assignment]
        email = app.locked_vault().slot.email if app.has_account() else ""
        yield Header()
        with Vertical(id="lock"):
            yield Static(f"[b]Strongroom is locked[/b]\n{email}")
            yield Label("Account Password")
            yield SecretInput(id="password")
            yield Static("", id="message")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#password", SecretInput).focus()

    @on(Input.Submitted, "#password")
    def _submit(self, event: Input.Submitted) -> None:
        if not event.value:
            return
        self.query_one("#message", Static).update("Unlocking…")
        self.query_one("#password", SecretInput).disabled = True
        self._unlock(event.value)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _unlock(self, password: str) -> Any:
        app: StrongroomApp = self.app  # type: ignore[assignment]
        vault = app.locked_vault()
        vault.unlock(password)
        return vault, vault.summary_head()  # the first screenful; the list loads the rest after painting it

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        field = self.query_one("#password", SecretInput)
        if event.state is WorkerState.SUCCESS:
            from .records import RecordListScreen

            app: StrongroomApp = self.app  # type: ignore[assignment]
            result: Any = event.worker.result
            app.vault, head = result
            app.switch_screen(RecordListScreen(head))
        elif event.state is WorkerState.ERROR and event.worker.error is not None:
            field.disabled = False
            field.value = ""
            field.focus()
            self.query_one("#message", Static).update(Text(error_text(event.worker.error), style="red"))
