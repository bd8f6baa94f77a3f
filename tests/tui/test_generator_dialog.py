"""The generator dialog in the edit form: every option of `strongroom generate`, a live strength
meter, and the chosen value in the password field (keys only, a real vault)."""

from __future__ import annotations

import re
from pathlib import Path

from pilotkit import on_screen, one_login_home, typed, unlock, until
from textual.widgets import Input, Static

from tui.app import StrongroomApp
from tui.screens.generator import GeneratorScreen
from tui.screens.records import EditRecordScreen, RecordDetailScreen

PW = "generator test password"


async def test_generator_options_strength_and_use(tmp_path: Path) -> None:
    home = one_login_home(tmp_path / "home", PW)
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 40)) as pilot:
        await unlock(pilot, PW)
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        await pilot.press("e")
        await on_screen(pilot, EditRecordScreen)
        await pilot.press("ctrl+o")
        await on_screen(pilot, GeneratorScreen)
        dialog = app.screen
        assert isinstance(dialog, GeneratorScreen)

        def value() -> str:
            return str(dialog.query_one("#value", Static).render())

        def strength() -> str:
            return str(dialog.query_one("#strength", Static).render())

        assert len(value()) == 20 and "Strength:" in strength()
        # characters: no symbols, no digits, length 8 (focus order: the checkboxes, then length)
        await pilot.press("tab", "space")  # Symbols off
        await pilot.press("tab", "space")  # Digits off
        await until(pilot, lambda: re.fullmatch(r"[A-Za-z]{20}", value()) is not None)
        await pilot.press("tab", "tab", "tab")  # past Uppercase and Look-alikes, to Length
        assert isinstance(app.focused, Input) and app.focused.id == "g-length"
        await pilot.press("ctrl+u", "backspace", "backspace")
        await typed(pilot, "8")
        await until(pilot, lambda: re.fullmatch(r"[A-Za-z]{8}", value()) is not None)
        weak = strength()
        await pilot.press("backspace")
        await typed(pilot, "2")  # 2 is under the minimum: said, the value kept
        await until(pilot, lambda: "4-128" in str(dialog.query_one("#problem", Static).render()))
        await pilot.press("backspace")
        await typed(pilot, "64")
        await until(pilot, lambda: len(value()) == 64)
        assert strength() != weak
        # passphrase: 4 words, separator '+', capitalized
        await pilot.press("shift+tab", "shift+tab", "shift+tab", "shift+tab", "shift+tab")
        assert app.focused.id == "g-passphrase"
        await pilot.press("space")
        await pilot.press("tab", "space")  # Capitalize each word (the character options hide)
        await pilot.press("tab", "tab")  # past Add a digit, to Words
        assert app.focused.id == "g-words"
        await pilot.press("backspace")
        await typed(pilot, "4")
        await pilot.press("tab", "backspace")
        await typed(pilot, "+")
        await until(
            pilot, lambda: re.fullmatch(r"([A-Z][a-z]+\+){3}[A-Z][a-z]+", value()) is not None
        )
        chosen = value()
        await pilot.press("ctrl+n")
        await until(pilot, lambda: value() != chosen)
        chosen = value()
        await pilot.press("ctrl+s")
        await on_screen(pilot, EditRecordScreen)
        assert app.screen.query_one("#f-password", Input).value == chosen
        await pilot.press("ctrl+o")
        await on_screen(pilot, GeneratorScreen)
        await pilot.press("escape")  # cancel: the form keeps its value
        await on_screen(pilot, EditRecordScreen)
        assert app.screen.query_one("#f-password", Input).value == chosen
