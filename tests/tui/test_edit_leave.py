"""Esc in the edit form (issue 20, item 13), keys only: it leaves at once when nothing changed,
and otherwise asks: save, discard or keep editing. Each answer does what it says, in the vault."""

from __future__ import annotations

from pathlib import Path

import pytest
from pilotkit import edit_first_record, on_screen, one_login_home, typed, until
from textual.widgets import Input, Static

from tui.app import StrongroomApp
from tui.screens.records import (
    EditRecordScreen,
    RecordDetailScreen,
    RecordListScreen,
    UnsavedChangesScreen,
)
from vault.vault import Vault

PW = "edit leave password"
SIZE = (80, 24)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return one_login_home(tmp_path / "home", PW)


def titles(home: Path) -> list[str]:
    v = Vault.open(home)
    v.unlock(PW)
    try:
        return sorted(s.title for s in v.summaries())
    finally:
        v.close()


async def test_nothing_changed_leaves_at_once(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await edit_first_record(pilot, PW)
        await pilot.press("end", "x", "backspace")  # typed and taken back: the same title
        await pilot.press("ctrl+n")  # an empty custom row is dropped on save: no change either
        await pilot.press("escape")
        await on_screen(pilot, RecordDetailScreen)


async def test_keep_editing_then_discard(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await edit_first_record(pilot, PW)
        await pilot.press("end")
        await typed(pilot, " work")
        await pilot.press("escape")
        await on_screen(pilot, UnsavedChangesScreen)
        question = str(app.screen.query_one(Static).render())
        assert "Save your changes to “GitHub work”?" in question
        assert "s Save" in question and "d Discard" in question and "Esc Keep editing" in question
        await pilot.press("escape")  # keep editing: the form as it was left
        await on_screen(pilot, EditRecordScreen)
        assert app.screen.query_one("#title", Input).value == "GitHub work"
        await pilot.press("escape")
        await on_screen(pilot, UnsavedChangesScreen)
        await pilot.press("d")
        await on_screen(pilot, RecordDetailScreen)
        assert "GitHub work" not in str(app.screen.query_one("#detail").render())
    assert titles(home) == ["GitHub"]


async def test_save_from_the_question(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await edit_first_record(pilot, PW)
        await pilot.press("tab", "end")  # the username (focus selects it all)
        await typed(pilot, "-2")
        await pilot.press("escape")
        await on_screen(pilot, UnsavedChangesScreen)
        await pilot.press("s")
        await on_screen(pilot, RecordDetailScreen)
    v = Vault.open(home)
    v.unlock(PW)
    assert v.record(v.find("GitHub")).username == "ann-2"
    v.close()


async def test_a_refused_value_keeps_the_form_open(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await edit_first_record(pilot, PW)
        form = app.screen
        form.query_one("#f-totp", Input).focus()  # the one-time password secret
        await typed(pilot, "not base32!")
        await pilot.press("escape", "s")
        await until(pilot, lambda: "base32" in str(form.query_one("#message").render()))
        assert app.screen is form
    v = Vault.open(home)
    v.unlock(PW)
    assert v.record(v.find("GitHub")).value("totp") is None
    v.close()


async def test_a_new_record_asks_too_and_discard_adds_nothing(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await edit_first_record(pilot, PW)
        await pilot.press("escape")  # unchanged: straight out
        await on_screen(pilot, RecordDetailScreen)
        await pilot.press("escape")
        await on_screen(pilot, RecordListScreen)
        await pilot.press("n")
        await on_screen(pilot, EditRecordScreen)
        await pilot.press("escape")  # an untouched new form: nothing to lose
        await on_screen(pilot, RecordListScreen)
        await pilot.press("n")
        await on_screen(pilot, EditRecordScreen)
        await pilot.press("tab")  # from the type to the title
        await typed(pilot, "Forum")
        await pilot.press("escape")
        await on_screen(pilot, UnsavedChangesScreen)
        assert "Save the new record “Forum”?" in str(app.screen.query_one(Static).render())
        await pilot.press("d")
        await on_screen(pilot, RecordListScreen)
    assert titles(home) == ["GitHub"]
