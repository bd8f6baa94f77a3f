"""Keys: one registry (tui/actions.py) behind every binding, the footer, the help and the palette;
the user's [keymap] in the settings file remaps them; a bad entry is reported, never fatal.

Driven with the keyboard only (Pilot) on real vault files and a real settings file.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pilotkit import on_screen, one_login_home, typed, unlock
from textual.command import CommandList
from textual.screen import Screen
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from tui.actions import ACTIONS
from tui.app import StrongroomApp
from tui.screens.account import LockScreen, WelcomeScreen
from tui.screens.help import HelpScreen, bound_classes
from tui.screens.importer import ExportScreen, ImportScreen
from tui.screens.records import (
    EditRecordScreen,
    RecordDetailScreen,
    RecordListScreen,
    SecurityCenterScreen,
)
from tui.screens.settings import SettingsScreen
from tui.screens.sync import SyncScreen

PW = "keys test password"
SIZE = (100, 30)


@pytest.fixture
def vault_home(tmp_path: Path) -> Path:
    return one_login_home(tmp_path / "home", PW)


def settings(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def footer(app: StrongroomApp) -> dict[str, str]:
    """What the footer shows: description -> key, as drawn."""
    return {k.description: k.key_display for k in app.screen.query(FooterKey)}


def help_text(app: StrongroomApp) -> str:
    """The help's lines with runs of spaces made one: "f sync through a folder sync.folder"."""
    return "\n".join(
        " ".join(strip.text.split())
        for s in app.screen.query(Static)
        for strip in s.render_lines(s.region.reset_offset)
    )


def notes(app: StrongroomApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def open_help(pilot: Any) -> str:
    await pilot.press("question_mark")
    await on_screen(pilot, HelpScreen)
    return help_text(pilot.app)


async def test_help_lists_the_keys_of_every_screen_even_sync_welcome_and_import(
    tmp_path: Path,
) -> None:
    app = StrongroomApp(home=tmp_path / "new")
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, WelcomeScreen)
        text = await open_help(pilot)
        for shown in (
            "u sign up (new account) welcome.signup",  # Welcome
            "f sync through a folder",  # Sync
            "s/ctrl+r sync now",
            "ctrl+s import the previewed records",  # Import
            "c/Enter copy the chosen field",  # Record
            "ctrl+l lock now",  # Everywhere, once
        ):
            assert shown in text, shown
        ids = {line.split()[-1] for line in text.split("\n") if line}
        assert set(ACTIONS) <= ids  # every action of the registry, with its id
        await pilot.press("escape")
        await on_screen(pilot, WelcomeScreen)


def test_every_binding_of_the_app_comes_from_the_registry() -> None:
    """Nothing binds a key behind the registry's back (so the help and the keymap see it)."""
    from textual.binding import BindingsMap

    classes = bound_classes()
    names = {c.__name__ for c in classes}
    assert {"SyncScreen", "WelcomeScreen", "ImportScreen", "RecordList"} <= names
    for cls in classes:
        for _key, binding in BindingsMap(cls.__dict__["BINDINGS"]):
            assert binding.id in ACTIONS, f"{cls.__name__}: {binding.key} -> {binding.action}"


async def test_a_remapped_key_works_and_shows_in_footer_help_and_palette(
    vault_home: Path, tmp_path: Path
) -> None:
    path = settings(
        tmp_path,
        '[keymap]\n"records.new" = "a"\n"app.lock" = ["ctrl+k"]\n"records.sync_now" = "ctrl+y"\n',
    )
    app = StrongroomApp(home=vault_home, settings_file=path)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        shown = footer(app)
        assert shown["New"] == "a" and shown["Lock"] == "^k"
        assert not notes(app)
        await pilot.press("n")  # the old key does nothing now
        await pilot.pause(0.1)
        assert isinstance(app.screen, RecordListScreen)
        await pilot.press("a")
        await on_screen(pilot, EditRecordScreen)
        await pilot.press("escape")
        await on_screen(pilot, RecordListScreen)
        text = await open_help(pilot)
        assert "a new record records.new" in text
        assert "ctrl+k lock now" in text and "ctrl+l lock" not in text
        await pilot.press("escape")
        await on_screen(pilot, RecordListScreen)
        await pilot.press("ctrl+p")
        await typed(pilot, "Sync now")
        await pilot.pause(0.3)
        found = app.screen.query_one(CommandList)
        shown = [str(found.get_option_at_index(i).prompt) for i in range(found.option_count)]
        assert "Sync now\nSync with the chosen method (ctrl+y)" in shown
        await pilot.press("escape")
        await on_screen(pilot, RecordListScreen)
        await pilot.press("ctrl+l")  # no longer the lock key
        await pilot.pause(0.1)
        assert isinstance(app.screen, RecordListScreen)
        await pilot.press("ctrl+k")
        await on_screen(pilot, LockScreen)


async def test_bad_keymap_entries_are_reported_and_the_rest_applies(
    vault_home: Path, tmp_path: Path
) -> None:
    path = settings(
        tmp_path,
        "[keymap]\n"
        '"records.nope" = "z"\n'  # no such action
        '"records.search" = "ctrl+entr"\n'  # no such key
        '"records.security" = 5\n'  # not a key at all
        '"records.new" = "a"\n',  # fine
    )
    app = StrongroomApp(home=vault_home, settings_file=path)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        told = "\n".join(notes(app))
        assert "no action is called 'records.nope'" in told
        assert "records.search" in told and "'ctrl+entr' is not a key name" in told
        assert "records.security" in told and "give a key as a string" in told
        shown = footer(app)
        assert shown["New"] == "a" and shown["Search"] == "/" and shown["Security"] == "s"
        await pilot.press("s")  # the bad entry left the default key in place
        await on_screen(pilot, SecurityCenterScreen)


async def test_a_settings_file_that_is_not_toml_is_reported_and_the_app_starts(
    vault_home: Path, tmp_path: Path
) -> None:
    path = settings(tmp_path, "[keymap\nrecords.new = ")
    app = StrongroomApp(home=vault_home, settings_file=path)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        assert any("is not valid TOML" in n and "no keys remapped" in n for n in notes(app))
        assert footer(app)["New"] == "n"


async def test_a_keymap_key_taken_from_another_action_is_said(
    vault_home: Path, tmp_path: Path
) -> None:
    app = StrongroomApp(
        home=vault_home, settings_file=settings(tmp_path, '[keymap]\n"records.new" = "s"\n')
    )
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        assert "[keymap] s now runs records.new, so records.security loses it" in notes(app)
        await pilot.press("s")
        await on_screen(pilot, EditRecordScreen)


Step = Callable[[Any], Awaitable[None]]


def keys(*pressed: str) -> Step:
    async def run(pilot: Any) -> None:
        await pilot.press(*pressed)

    return run


async def palette(pilot: Any, command: str) -> None:
    await pilot.press("ctrl+p")
    await typed(pilot, command)
    await pilot.pause(0.3)
    await pilot.press("enter")


async def test_ctrl_l_locks_from_every_screen_that_had_it(vault_home: Path, tmp_path: Path) -> None:
    """The seven screens that each bound ctrl+l before it moved to the app, once."""
    journeys: list[tuple[Step, type[Screen[Any]]]] = [
        (keys(), RecordListScreen),
        (keys("enter"), RecordDetailScreen),
        (keys("s"), SecurityCenterScreen),
        (keys("comma"), SettingsScreen),
        (keys("y"), SyncScreen),
        (keys("i"), ImportScreen),
        (lambda pilot: palette(pilot, "Export"), ExportScreen),
    ]
    app = StrongroomApp(home=vault_home, kit_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        for go, screen in journeys:
            await unlock(pilot, PW)
            await go(pilot)
            await on_screen(pilot, screen)
            assert footer(app)["Lock"] == "^l"
            await pilot.press("ctrl+l")
            await on_screen(pilot, LockScreen)
            assert app.vault is None, screen.__name__


@pytest.mark.parametrize(
    ("typed_key", "textual_key"),
    [("?", "question_mark"), ("Ctrl+K", "ctrl+k"), ("F5", "f5"), (",", "comma"), ("*", "asterisk")],
)
def test_keys_are_written_as_people_type_them(typed_key: str, textual_key: str) -> None:
    from tui.keymap import key_label, parse_keys

    assert parse_keys(typed_key) == textual_key
    assert key_label(textual_key) in (typed_key.lower(), typed_key)


@pytest.mark.parametrize("bad", ["", "ctrl+", "hyper+ctrl+pgup", "ctrl+entr", [], ["a", 1]])
def test_a_key_that_is_no_key_is_refused(bad: object) -> None:
    from tui.keymap import KeyNameError, parse_keys

    with pytest.raises(KeyNameError):
        parse_keys(bad)
