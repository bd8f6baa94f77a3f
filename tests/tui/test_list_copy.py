"""Copy any field of a record from its screen: ↑↓ choose, c copies through the app's copy
(tui/clipboard.py), and the clipboard clears itself afterwards."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from listhelp import PW, SIZE, make_home, text_of, unlocked_list
from pilotkit import typed, until

from tui.app import StrongroomApp
from tui.clipboard import PLACEHOLDER
from tui.screens.records import RecordDetailScreen
from vault.vault import Vault


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = make_home(tmp_path / "home")
    v = Vault.open(h)
    v.unlock(PW)
    v.update_settings(clipboard_seconds=1)
    v.close()
    return h


async def _open_github(pilot, app: StrongroomApp) -> None:  # type: ignore[no-untyped-def]
    lst = await unlocked_list(pilot, app)
    await pilot.press("slash")
    await typed(pilot, "github")
    await pilot.press("enter")
    await until(pilot, lambda: [r.title for r in lst.rows][:1] == ["GitHub"])
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, RecordDetailScreen))


async def test_a_custom_field_is_chosen_with_the_arrows_and_copied_then_cleared(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await _open_github(pilot, app)
        assert re.search(r"▸ Password +•", text_of(app, "#detail"))  # the password is chosen first
        await pilot.press("down")  # the custom "Recovery code" (not one of the Login template's)
        assert re.search(r"▸ Recovery code +••••••••••", text_of(app, "#detail"))
        await pilot.press("c")
        assert app.secret_clipboard.copied == "rc-7781-4410" and app.clipboard == "rc-7781-4410"
        assert any("Copied the Recovery code" in str(n.message) for n in app._notifications)
        assert "rc-7781-4410" not in text_of(app, "#detail")  # copying does not reveal it
        await until(
            pilot, lambda: app.secret_clipboard.copied is None, seconds=3
        )  # clipboard_seconds=1
        assert app.clipboard == PLACEHOLDER  # OSC 52 (headless): overwritten, as tmux honours


async def test_every_field_can_be_copied_and_the_choice_stops_at_the_ends(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await _open_github(pilot, app)
        copied = []
        await pilot.press("up", "up", "up")  # past the first field: stays on Username
        for _ in range(4):  # Username, Password, Recovery code, and no further
            await pilot.press("enter")
            copied.append(app.clipboard)
            await pilot.press("down")
        assert copied == ["ann", "gh-pw", "rc-7781-4410", "rc-7781-4410"]
