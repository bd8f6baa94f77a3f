"""Type the Account Password again before a secret is shown, copied or exported, once the
last proof is older than the "re-enter the password" minutes (StrongroomApp.after_password).

The check is one KDF run on the key slot (vault.keys.unlock) in a worker; the keys it yields
are dropped. A wrong password is said plainly and nothing is shown; Esc gives up.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static
from textual.worker import Worker, WorkerState

from ..actions import bindings
from ..app_access import strongroom_app
from ..widgets.secret_input import SecretInput
from ..workers import work
from .account import error_text


class ReauthScreen(ModalScreen[bool | None]):
    """Dismissed with True once the right password was typed, None when given up (Esc)."""

    BINDINGS = bindings("dialog.cancel")
    busy = False

    def __init__(self, what: str) -> None:
        """`what`: what waits for the password ("reveal the secrets", "export")."""
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(
                Text.assemble(
                    ("Account Password", "bold"),
                    f" — type it again to {self.what} (it was last typed a while ago).",
                )
            )
            yield Label("Account Password")
            yield SecretInput(id="reauth-password")
            yield Static("", id="reauth-message")
            yield Static("Enter checks it · Esc cancels", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#reauth-password", SecretInput).focus()

    @on(Input.Submitted, "#reauth-password")
    def _check(self, event: Input.Submitted) -> None:
        vault = strongroom_app(self).vault
        if self.busy or vault is None:
            return
        if not event.value:
            self._say("Type the Account Password (Esc cancels).")
            return
        self.busy = True
        self._say("Checking…", "")
        self._verify(vault.slot, event.value)

    @work(doing="Checking the Account Password", exclusive=True, shows_errors=True)
    def _verify(self, slot: object, password: str) -> None:
        from vault.keys import KeySlot, unlock

        assert isinstance(slot, KeySlot)
        unlock(slot, password)  # WrongPasswordError unless it is the password; the keys go

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.SUCCESS:
            self.dismiss(True)
        elif event.state is WorkerState.ERROR and event.worker.error is not None:
            self.busy = False
            field = self.query_one("#reauth-password", SecretInput)
            field.value = ""
            field.focus()
            text = error_text(event.worker.error)
            self._say(f"{text[:1].upper()}{text[1:]}: nothing was shown. Try again, or Esc.")

    def _say(self, text: str, style: str = "red") -> None:
        self.query_one("#reauth-message", Static).update(Text(text, style=style))
