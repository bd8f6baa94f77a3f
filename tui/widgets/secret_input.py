"""A password Input that never copies or cuts its value (Textual's does, with ctrl+c/ctrl+x).

It starts masked; `toggle_reveal` shows the value and masks it again (a screen binds a key to
it). Copy and cut stay blocked while it is shown: the clipboard gets a secret only through the
app's copy, which clears it again.
"""

from __future__ import annotations

from textual.widgets import Input


class SecretInput(Input):
    def __init__(self, placeholder: str = "", *, value: str = "", id: str | None = None) -> None:  # noqa: A002
        super().__init__(value=value, placeholder=placeholder, password=True, id=id)

    @property
    def revealed(self) -> bool:
        return not self.password

    def toggle_reveal(self) -> None:
        self.password = not self.password

    def action_copy(self) -> None:
        self.notify("Passwords typed here cannot be copied.", severity="warning")

    def action_cut(self) -> None:
        self.notify("Passwords typed here cannot be cut.", severity="warning")
