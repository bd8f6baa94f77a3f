"""The record list's filters (type, tag, favourites), sort, counts and empty states, keys only."""

from __future__ import annotations

from pathlib import Path

import pytest
from listhelp import ROWS, SIZE, TITLES, make_home, text_of, titles, unlocked_list
from pilotkit import typed, until

from tui.app import StrongroomApp
from tui.screens.filters import PickScreen
from tui.screens.help import HelpScreen
from tui.screens.records import RecordListScreen

ALL = len(ROWS)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return make_home(tmp_path / "home")


async def test_filter_by_type_then_tag_then_favourites_with_counts(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        lst = await unlocked_list(pilot, app)
        assert titles(lst) == TITLES
        assert text_of(app, "#counts").strip() == f"{ALL} of {ALL} records"
        await pilot.press("t")  # All types, Bank Account, Login, Note, Passport, Wi-Fi
        assert isinstance(app.screen, PickScreen)
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: titles(lst) == ["Amazon", "GitHub", "Gmail"])
        assert text_of(app, "#counts").strip() == f"3 of {ALL} records · Login"
        await pilot.press("g")  # All tags, finance, personal, shopping, work
        await pilot.press("end", "enter")
        await until(pilot, lambda: titles(lst) == ["GitHub", "Gmail"])
        assert text_of(app, "#counts").strip() == f"2 of {ALL} records · Login · tagged “work”"
        await pilot.press("f")
        await until(pilot, lambda: titles(lst) == ["GitHub"])
        assert (
            text_of(app, "#counts").strip()
            == f"1 of {ALL} records · Login · tagged “work” · favourites"
        )
        await pilot.press("t", "home", "enter")  # all types again; tag and favourites stay
        await until(pilot, lambda: titles(lst) == ["GitHub"])
        await pilot.press("g", "escape")  # Esc keeps the filter as it was
        assert text_of(app, "#counts").strip() == f"1 of {ALL} records · tagged “work” · favourites"
        await pilot.press("f")
        await until(pilot, lambda: titles(lst) == ["GitHub", "Gmail"])
        await pilot.press("x")
        await until(pilot, lambda: titles(lst) == TITLES)
        assert text_of(app, "#counts").strip() == f"{ALL} of {ALL} records"


async def test_sort_by_recently_changed_then_type_then_title(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        lst = await unlocked_list(pilot, app)
        by_change = [r[2] for r in sorted(ROWS, key=lambda r: -r[6])]
        await pilot.press("o")
        await until(pilot, lambda: titles(lst) == by_change)
        assert text_of(app, "#counts").strip() == f"{ALL} of {ALL} records · by recently changed"
        await pilot.press("o")  # by type label, then title
        await until(
            pilot,
            lambda: (
                titles(lst)
                == [
                    "Bank of Mars",
                    "Amazon",
                    "GitHub",
                    "Gmail",
                    "Door codes",
                    "Passport",
                    "Wi-Fi at home",
                ]
            ),
        )
        await pilot.press("g", "end", "enter")  # a filter keeps the sort
        await until(pilot, lambda: titles(lst) == ["GitHub", "Gmail"])
        await pilot.press("x", "o")
        await until(pilot, lambda: titles(lst) == by_change)  # x cleared the sort as well
        await pilot.press("x")
        await pilot.press("slash")
        await typed(pilot, "a")  # a search keeps the chosen sort within its groups
        await pilot.press("enter", "o")
        # "Amazon" starts with it, the rest contain it (title, username or tags), newest first
        await until(
            pilot,
            lambda: (
                titles(lst)
                == ["Amazon", "GitHub", "Passport", "Gmail", "Wi-Fi at home", "Bank of Mars"]
            ),
        )


async def test_empty_states_say_what_hides_the_records(home: Path, tmp_path: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        lst = await unlocked_list(pilot, app)
        await pilot.press("slash")
        await typed(pilot, "xyz")
        await until(pilot, lambda: not lst.rows)
        assert text_of(app, "#empty") == "No records match “xyz”. Esc clears the search."
        assert text_of(app, "#counts").strip() == f"0 of {ALL} records"
        await pilot.press("escape")
        await until(pilot, lambda: len(lst.rows) == ALL)
        assert text_of(app, "#empty") == ""
        await pilot.press(
            "t", "down", "down", "down", "enter", "g", "end", "enter"
        )  # notes tagged work
        await until(pilot, lambda: not lst.rows)
        assert text_of(app, "#empty") == "No Note records tagged “work”. x clears the filters."
        await pilot.press("slash")
        await typed(pilot, "door")
        await pilot.press("enter")
        await until(pilot, lambda: "match" in text_of(app, "#empty"))
        assert text_of(app, "#empty") == (
            "No Note records tagged “work” match “door”. "
            "Esc clears the search · x clears the filters."
        )
        await pilot.press("x")
        await until(pilot, lambda: titles(lst) == ["Door codes"])
    empty = make_home(tmp_path / "no-favourites")
    from vault.vault import Vault

    v = Vault.open(empty)
    v.unlock("list test password")
    for s in v.summaries():
        if s.favorite:
            rec = v.record(s.id)
            from dataclasses import replace

            v.update(replace(rec, favorite=False))
    v.close()
    app = StrongroomApp(home=empty)
    async with app.run_test(size=SIZE) as pilot:
        lst = await unlocked_list(pilot, app)
        await pilot.press("f")
        await until(pilot, lambda: not lst.rows)
        assert text_of(app, "#empty").startswith("No favourites yet: press * on a record")


async def test_filters_and_sort_from_the_command_palette(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        lst = await unlocked_list(pilot, app)
        for command, expected in (
            ("Show tag: personal", ["Gmail", "Wi-Fi at home"]),
            ("Sort by recently changed", ["Gmail", "Wi-Fi at home"]),
            ("Show type: Wi-Fi", ["Wi-Fi at home"]),
            ("Clear filters", TITLES),
        ):
            await pilot.press("ctrl+p")
            await pilot.pause(0.2)
            await typed(pilot, command)
            await pilot.pause(0.3)
            await pilot.press("enter")
            await until(pilot, lambda expected=expected: titles(lst) == expected, what=command)
            assert isinstance(app.screen, RecordListScreen)


async def test_help_lists_the_list_keys(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await unlocked_list(pilot, app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        words = " ".join(
            strip.text
            for s in app.screen.query("Static")
            for strip in s.render_lines(s.region.reset_offset)
        ).split()
        first = " ".join(words[: words.index("Everywhere")])  # the list's own keys come first
        for key in (
            "f favourites",
            "t filter by type",
            "g filter by tag",
            "x clear filters",
            "o sort",
        ):
            assert key in first
