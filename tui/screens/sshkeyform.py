"""The SSH key form's private key: pasted whole (several lines), or read from a key file whose
path is typed, and decrypted with its passphrase in a modal when the file is protected by one.
The key is stored decrypted inside the encrypted record, as `add ssh-key --private-key` does."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static
from textual.worker import Worker, WorkerState

from vault.errors import InvalidInputError

from ..actions import bindings
from ..widgets.secret_input import SecretInput
from ..workers import work
from .account import error_text

if TYPE_CHECKING:
    from vault.sshkeys import SshKey  # not at import: cryptography's SSH parts cost ~13 ms


class KeyInput(SecretInput):
    """A concealed field that keeps a pasted key whole (Textual's Input keeps its first line)."""

    def _on_paste(self, event: events.Paste) -> None:
        if event.text:
            self.value = event.text.strip() + "\n"
            self.cursor_position = len(self.value)
        event.stop()


def key_text(value: str) -> str:
    """The private key the field holds: its text, or the contents of the key file it names."""
    from vault.sshkeys import MAX_KEY_FILE

    typed = value.strip()
    if not typed or "-----BEGIN" in typed:
        return value
    path = Path(typed).expanduser()
    if not path.is_file():
        raise InvalidInputError(
            "the private key field holds neither a key (-----BEGIN …) nor the path of a key file"
        )
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_KEY_FILE + 1)
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_KEY_FILE:
        raise InvalidInputError(f"{path} is too large to be an SSH private key")
    return data.decode("utf-8", errors="replace")


class KeyPassphraseScreen(ModalScreen["SshKey | None"]):
    """The key file's own passphrase (not the Account Password; never stored): the decrypted
    key, or None when given up (Esc)."""

    BINDINGS = bindings("dialog.cancel")
    busy = False

    def __init__(self, private_key: str, comment: str) -> None:
        super().__init__()
        self.private_key = private_key
        self.comment = comment

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(
                Text.assemble(
                    ("SSH key passphrase", "bold"),
                    " — this private key is protected by a passphrase. It is decrypted once and "
                    "kept inside the encrypted record; the passphrase is not stored.",
                )
            )
            yield Label("Passphrase of the key")
            yield SecretInput(id="key-passphrase")
            yield Static("", id="key-message")
            yield Static("Enter decrypts · Esc cancels", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#key-passphrase", SecretInput).focus()

    @on(Input.Submitted, "#key-passphrase")
    def _decrypt(self, event: Input.Submitted) -> None:
        if self.busy:
            return
        self.busy = True
        self.query_one("#key-message", Static).update("Decrypting…")
        self._open(event.value)

    @work(doing="Decrypting the SSH key", exclusive=True, shows_errors=True)
    def _open(self, passphrase: str) -> SshKey:
        from vault.sshkeys import import_private

        return import_private(self.private_key.encode(), passphrase, self.comment)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.SUCCESS:
            from vault.sshkeys import SshKey

            result = event.worker.result
            assert isinstance(result, SshKey)
            self.dismiss(result)
        elif event.state is WorkerState.ERROR and event.worker.error is not None:
            self.busy = False
            field = self.query_one("#key-passphrase", SecretInput)
            field.value = ""
            field.focus()
            text = error_text(event.worker.error)
            self.query_one("#key-message", Static).update(
                Text(f"{text[:1].upper()}{text[1:]}: try again, or Esc.", style="red")
            )
