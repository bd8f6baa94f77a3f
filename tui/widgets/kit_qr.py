"""The Kit's QR code drawn in the terminal: fixed black on white whatever the theme (an inverted
code does not scan), half blocks, 21 lines for the 109-character payload."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from vault.kitcode import KitPayload
from vault.kitfile import render_terminal

QR_STYLE = "#000000 on #ffffff"


class KitQR(Static):
    DEFAULT_CSS = "KitQR { width: auto; height: auto; }"

    def __init__(self, payload: KitPayload, *, id: str | None = None) -> None:  # noqa: A002
        self.lines = render_terminal(payload)
        super().__init__(Text("\n".join(self.lines), style=QR_STYLE), id=id)
