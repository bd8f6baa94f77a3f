"""After sign-up the Kit screen leaves only through the "I stored my Kit safely" step (y)."""

from __future__ import annotations

from pathlib import Path

from tui.app import StrongroomApp
from tui.screens.account import KitScreen, SignUpScreen
from tui.screens.records import RecordListScreen


async def _wait(pilot, app: StrongroomApp, kind: type) -> None:  # type: ignore[no-untyped-def]
    for _ in range(100):
        if isinstance(app.screen, kind):
            return
        await pilot.pause(0.05)
    raise AssertionError(f"expected {kind.__name__}, on {type(app.screen).__name__}")


async def test_escape_does_not_skip_the_kit_acknowledgement(tmp_path: Path) -> None:
    app = StrongroomApp(home=tmp_path / "home", kit_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("u")
        await _wait(pilot, app, SignUpScreen)
        screen = app.screen  # the form itself is driven by keys in test_app_flows
        screen.query_one("#email").value = "a@b.io"
        screen.query_one("#password").value = screen.query_one("#repeat").value = "long password 1"
        await pilot.press("ctrl+s")
        await _wait(pilot, app, KitScreen)
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert isinstance(app.screen, KitScreen)
        await pilot.press("y")
        await _wait(pilot, app, RecordListScreen)
