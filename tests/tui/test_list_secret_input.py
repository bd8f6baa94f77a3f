"""The edit form's concealed fields are SecretInputs: masked, ctrl+r shows/hides them, and
ctrl+c / ctrl+x never put their value on the clipboard (a plain field's would)."""

from __future__ import annotations

from pathlib import Path

import pytest
from listhelp import SIZE, make_home, unlocked_list
from pilotkit import typed, until

from tui.app import StrongroomApp
from tui.screens.records import EditRecordScreen, RecordDetailScreen
from tui.widgets.secret_input import SecretInput


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return make_home(tmp_path / "home")


async def _edit_github(pilot, app: StrongroomApp) -> EditRecordScreen:  # type: ignore[no-untyped-def]
    lst = await unlocked_list(pilot, app)
    await pilot.press("slash")
    await typed(pilot, "github")
    await pilot.press("enter")
    await until(pilot, lambda: [r.title for r in lst.rows][:1] == ["GitHub"])
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, RecordDetailScreen))
    await pilot.press("e")
    await until(pilot, lambda: isinstance(app.screen, EditRecordScreen))
    screen = app.screen
    assert isinstance(screen, EditRecordScreen)
    return screen


async def test_concealed_fields_block_copy_and_cut_even_when_shown(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _edit_github(pilot, app)
        password, custom = (
            screen.query_one("#f-password"),
            screen.query_one("#x-0"),
        )  # x-0: "Recovery code"
        assert isinstance(password, SecretInput) and isinstance(custom, SecretInput)
        assert not isinstance(screen.query_one("#f-username"), SecretInput)
        await pilot.press("end", "shift+home", "ctrl+c")  # the title field (focused first) copies
        assert app.clipboard == "GitHub"
        await pilot.press("tab", "tab")
        assert screen.focused is password and password.password
        await pilot.press("end", "shift+home", "ctrl+c")
        assert app.clipboard == "GitHub"
        await pilot.press("ctrl+r")  # shown now: still no copy, no cut
        assert not password.password and "gh-pw" in str(password.render_line(0).text)
        await pilot.press("end", "shift+home", "ctrl+c", "end", "shift+home", "ctrl+x")
        assert app.clipboard == "GitHub" and password.value == "gh-pw"
        assert any("cannot be copied" in str(n.message) for n in app._notifications)
        await pilot.press("ctrl+r")
        assert password.password and "gh-pw" not in str(password.render_line(0).text)
        await pilot.press("tab")
        assert screen.focused is not password
        await pilot.press("shift+tab", "shift+tab")
        assert screen.focused is not password  # username
        await pilot.press("ctrl+r")  # not on a secret field: nothing shown, a hint instead
        assert password.password and custom.password
        assert any("secret field" in str(n.message) for n in app._notifications)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, RecordDetailScreen))
    assert app.clipboard == "GitHub"
