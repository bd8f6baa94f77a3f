"""After sign-up the Kit screen leaves only through the "I stored my Kit safely" step (y)."""

from __future__ import annotations

from pathlib import Path

from pilotkit import on_screen

from tui.app import StrongroomApp
from tui.screens.account import KitScreen, SignUpScreen
from tui.screens.records import RecordListScreen


async def test_escape_does_not_skip_the_kit_acknowledgement(tmp_path: Path) -> None:
    app = StrongroomApp(home=tmp_path / "home", kit_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("u")
        await on_screen(pilot, SignUpScreen)
        screen = app.screen  # the form itself is driven by keys in test_app_flows
        screen.query_one("#email").value = "a@b.io"
        screen.query_one("#password").value = screen.query_one("#repeat").value = "long password 1"
        await pilot.press("ctrl+s")
        await on_screen(pilot, KitScreen)
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert isinstance(app.screen, KitScreen)
        await pilot.press("y")
        await on_screen(pilot, RecordListScreen)
