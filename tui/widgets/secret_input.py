"""A password Input that never copies or cuts its value (Textual's does, with ctrl+c/ctrl+x)."""

from __future__ import annotations

from textual.widgets import Input


class SecretInput(Input):
    def __init__(self, placeholder: str = "", *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(placeholder=placeholder, password=True, id=id)

    def action_copy(self) -> None:
        self.notify("Passwords typed here cannot be copied.", severity="warning")

    def action_cut(self) -> None:
        self.notify("Passwords typed here cannot be cut.", severity="warning")
