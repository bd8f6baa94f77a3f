"""Screens fit 80×24 and 60×18 (issue 20, item 7): the footer keeps Help and Quit and names each
key once, Lock only while unlocked; the help screen fits a 60-column window; a long Settings
line wraps in its own column."""

from __future__ import annotations

from pathlib import Path

import pytest
from pilotkit import on_screen, typed, unlock
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from tui.app import StrongroomApp
from tui.screens.account import LockScreen, WelcomeScreen
from tui.screens.help import HelpScreen
from tui.screens.records import RecordDetailScreen
from tui.screens.settings import SettingsScreen
from tui.widgets.key_footer import KeyFooter
from vault.records import new_record
from vault.vault import Vault

PW = "fit small password"
SIZES = [(80, 24), (60, 18)]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    v = Vault.create(h, "ann@example.com", PW)
    v.add(new_record("login", "GitHub", {"username": "ann", "password": "pw"}, favorite=True))
    v.close()
    return h


def footer_keys(app: StrongroomApp) -> list[str]:
    """The footer's entries as shown ("? Help"), after checking each lies inside the window."""
    footer = app.screen.query_one(KeyFooter)
    shown = []
    for key in footer.query(FooterKey):
        assert key.region.right <= app.size.width, f"{key.description} is cut off"
        shown.append(f"{key.key_display} {key.description}")
    return shown


async def settled(pilot: object) -> None:
    for _ in range(3):
        await pilot.pause(0.1)  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", SIZES)
async def test_footer_keeps_help_and_quit_once(
    tmp_path: Path, home: Path, size: tuple[int, int]
) -> None:
    app = StrongroomApp(home=tmp_path / "nobody")
    async with app.run_test(size=size) as pilot:
        await on_screen(pilot, WelcomeScreen)
        await settled(pilot)
        shown = footer_keys(app)
        labels = [s.split(" ", 1)[1] for s in shown]
        assert "Help" in labels and labels.count("Quit") == 1 and "Lock" not in labels

    app = StrongroomApp(home=home)
    async with app.run_test(size=size) as pilot:
        await on_screen(pilot, LockScreen)
        await settled(pilot)
        labels = [s.split(" ", 1)[1] for s in footer_keys(app)]
        assert "Quit" in labels and "Help" in labels and "Lock" not in labels
        await unlock(pilot, PW)
        await settled(pilot)
        labels = [s.split(" ", 1)[1] for s in footer_keys(app)]
        assert {"Help", "Quit", "Lock", "Search", "New"} <= set(labels)
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        await settled(pilot)
        labels = [s.split(" ", 1)[1] for s in footer_keys(app)]
        assert {"Help", "Quit", "Lock", "Back"} <= set(labels)
        assert len(labels) == len(set(labels))


@pytest.mark.parametrize("size", SIZES)
async def test_help_fits_the_window(home: Path, size: tuple[int, int]) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot, PW)
        await pilot.press("question_mark")
        await on_screen(pilot, HelpScreen)
        box = app.screen.query_one("#help")
        assert box.region.right <= size[0] and box.region.x >= 0
        assert box.virtual_size.width <= box.content_region.width + 1, "help scrolls sideways"
        for static in box.query(Static):
            assert static.region.right <= box.region.right


async def test_a_long_settings_line_wraps_in_its_column(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, PW)
        await typed(pilot, ",")
        await on_screen(pilot, SettingsScreen)
        await settled(pilot)
        overview = app.screen.query_one("#overview", Static)
        lines = [strip.text for strip in overview.render_lines(overview.region.reset_offset)]
        theme = next(i for i, line in enumerate(lines) if line.lstrip().startswith("Theme"))
        text_column = lines[theme].index("t ") + 3
        follow = lines[theme + 1]
        assert follow.strip(), "the theme's hint fits on one line: make the window narrower"
        assert follow[:text_column].strip() == "", "the hint wraps under the section names"
