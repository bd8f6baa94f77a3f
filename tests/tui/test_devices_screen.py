"""The device list in the app (Settings → i), by keys only: two real devices synced through a
real folder, each listed with its id and sync method, this one marked."""

from __future__ import annotations

from pathlib import Path

from pilotkit import on_screen, unlock
from textual.widgets import Static

from sync.folder import bootstrap_from_folder
from sync.method import configure, sync_now
from tui.app import StrongroomApp
from tui.screens.devices import DevicesScreen
from tui.screens.settings import SettingsScreen
from vault.records import new_record
from vault.vault import Vault

PW = "devices screen password"


def _two_devices(tmp_path: Path) -> tuple[Path, str, str]:
    a, b, folder = tmp_path / "a", tmp_path / "b", tmp_path / "Dropbox"
    folder.mkdir()
    va = Vault.create(a, "ann@example.com", PW)
    va.add(new_record("login", "GitHub", {"password": "gh"}))
    configure(va, "folder", folder=str(folder.resolve()))
    sync_now(va)
    vb = bootstrap_from_folder(b, folder, "ann@example.com", PW, va.slot.kit)
    sync_now(vb)
    sync_now(va)
    ids = va.device, vb.device
    va.close()
    vb.close()
    return a, *ids


async def test_settings_lists_the_devices_with_this_one_marked(tmp_path: Path) -> None:
    home, mine, other = _two_devices(tmp_path)
    app = StrongroomApp(home=home, kit_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot, PW)
        await pilot.press("comma")
        await on_screen(pilot, SettingsScreen)
        await pilot.press("i")
        await on_screen(pilot, DevicesScreen)
        screen = app.screen
        static = screen.query_one("#devices", Static)
        lines = [s.text for s in static.render_lines(static.region.reset_offset)]
        text = "\n".join(lines)
        assert mine in text and other in text
        row = next(line for line in lines if mine in line)
        assert row.lstrip().startswith("*") and "(this device)" in row and "folder" in row
        other_row = next(line for line in lines if other in line)
        assert "(this device)" not in other_row and not other_row.lstrip().startswith("*")
        await pilot.press("escape")
        await on_screen(pilot, SettingsScreen)
