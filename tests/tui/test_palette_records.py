"""The command palette (ctrl+p) finds records by title and opens the chosen one: keys only."""

from __future__ import annotations

from pathlib import Path

from pilotkit import on_screen, typed, unlock, until

from tui.app import StrongroomApp
from tui.screens.records import RecordDetailScreen, RecordListScreen
from vault.records import new_record
from vault.vault import Vault

PW = "palette test password"


def _home(home: Path) -> tuple[Path, str]:
    v = Vault.create(home, "ann@example.com", PW)
    records = [new_record("login", f"Site {i:03d}", {"username": f"u{i}"}) for i in range(200)]
    bank = new_record("login", "Zebra Bank", {"username": "ann", "password": "zb"})
    v.add_many([*records, bank])
    v.close()
    return home, bank.id


async def test_palette_opens_a_record_found_by_title(tmp_path: Path) -> None:
    home, bank_id = _home(tmp_path / "home")
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot, PW)
        screen = app.screen
        assert isinstance(screen, RecordListScreen)
        await until(pilot, lambda: screen.index is not None, 20, "the search index")
        await pilot.press("ctrl+p")
        await typed(pilot, "zebra")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        assert app.screen.record_id == bank_id
