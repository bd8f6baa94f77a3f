"""The question an "ask before each use" SSH key puts to the open app: may this program sign
with this key? y allows one signature, n or Esc refuses; the SSH agent waits for the answer
(agent/daemon.py), and the question closes by itself when it is answered in another app,
expires or the vault locks. It pops up unasked, maybe while the person is typing a "y" into a
form, so y counts only once the question has been on screen for ARM_SECONDS; a refusal counts
at once."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from runtime.safe_text import printable

from ..actions import bindings

#: How long the question is on screen before y can allow (a key typed for something else must
#: not answer it).
ARM_SECONDS = 0.5


class SshAskScreen(ModalScreen[bool]):
    """One signature request; dismissed with True (allow) or False (refuse)."""

    BINDINGS = bindings("dialog.yes", "dialog.no")

    def __init__(self, question: dict[str, Any]) -> None:
        super().__init__()
        self.ask_id = int(question["id"])
        self.title_shown = printable(str(question.get("title", "")))
        self.fingerprint = printable(str(question.get("fingerprint", "")))
        self.client = printable(str(question.get("client", ""))) or "a program"
        self.armed = False

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("SSH key use\n\n", style="bold")
        text.append(self.client, style="bold")
        text.append(" asks to sign with the key ")
        text.append(f"“{self.title_shown}”", style="bold")
        text.append(f"\n{self.fingerprint}\n\n", style="dim")
        text.append("y allows this once · n or Esc refuses")
        with Vertical(id="dialog"):
            yield Static(text, id="ssh-ask")

    def on_mount(self) -> None:
        self.set_timer(ARM_SECONDS, self._arm)

    def _arm(self) -> None:
        self.armed = True

    def action_answer(self, yes: bool) -> None:
        if yes and not self.armed:
            self.app.bell()  # too soon to be an answer to this question
            return
        self.dismiss(yes)
