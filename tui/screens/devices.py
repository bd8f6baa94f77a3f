"""Devices: the account's devices as this device knows them (Settings → i), read-only.

Each device writes its own entry (vault/devices.py) and the entries ride every sync, so a
device appears here once it has synced. Removing one is `strongroom devices rm ID` (it needs the
password and writes a new Kit)."""

from __future__ import annotations

import time

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from ..actions import scope
from ..app_access import strongroom_app
from ..widgets.key_footer import KeyFooter


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "-"


class DevicesScreen(Screen[None]):
    BINDINGS = scope("devices")
    DEFAULT_CSS = """
    DevicesScreen #devices-scroll { padding: 1 2; }
    DevicesScreen #devices-about { margin-top: 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        self.sub_title = "Devices"
        yield Header()
        with VerticalScroll(id="devices-scroll"):
            yield Static("", id="devices")
            yield Static(
                "Each device appears here once it has synced. To remove a lost or sold device "
                "(new keys for the others, a new Kit), run `strongroom devices rm ID`.",
                id="devices-about",
                markup=False,
            )
        yield KeyFooter()

    def on_screen_resume(self) -> None:
        self.refresh_devices()

    def refresh_devices(self) -> None:
        from vault import devices

        vault = strongroom_app(self).vault
        if vault is None:
            return
        rows = devices.entries(vault)
        table = Table.grid(padding=(0, 2))
        for name in ("", "Name", "ID", "Sync", "First seen", "Last seen"):
            table.add_column(name, no_wrap=True)
        table.add_row(
            *(Text(h, style="bold") for h in ("", "Name", "ID", "Sync", "First seen", "Last seen"))
        )
        for e in rows:
            this = e.id == vault.device
            table.add_row(
                Text("*" if this else ""),
                Text(e.name + (" (this device)" if this else "")),
                Text(e.id),
                Text(e.method),
                Text(_when(e.first_seen)),
                Text(_when(e.last_seen)),
            )
        if not rows:
            table.add_row(
                "", Text("No device has synced its entry yet.", style="dim"), "", "", "", ""
            )
        self.query_one("#devices", Static).update(table)
