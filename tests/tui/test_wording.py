"""Wording a copy editor would pass (issue 20, item 15), keys only: a saved setting is said in a
sentence whose unit agrees with the number ("locks after 1 idle minute", never "auto lock
minutes after 30 minutes"); counts agree with their noun ("1 of 1 record"); the word helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from pilotkit import on_screen, typed, unlock, until
from textual.widgets import Static

from tui.app import StrongroomApp
from tui.screens.settings import NumberScreen, SettingsScreen
from vault.records import new_record
from vault.vault import Vault
from vault.words import duration, plural

PW = "wording test password"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    v = Vault.create(tmp_path / "home", "ann@example.com", PW)
    v.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-pw"}))
    v.close()
    return tmp_path / "home"


def said(app: StrongroomApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


@pytest.mark.parametrize(
    ("key", "typed_in", "sentence"),
    [
        ("a", "30", "Saved: the app locks after 30 idle minutes."),
        ("a", "1", "Saved: the app locks after 1 idle minute."),
        ("a", "0", "Saved: the app never locks by itself."),
        ("c", "1", "Saved: copied values are cleared after 1 second."),
        ("d", "0", "Saved: deleted records stay in the trash until it is emptied."),
        ("v", "1", "Saved: each record keeps up to 1 previous version."),
    ],
)
async def test_a_saved_setting_is_said_in_a_sentence(
    home: Path, key: str, typed_in: str, sentence: str
) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, PW)
        await pilot.press("comma")
        await on_screen(pilot, SettingsScreen)
        await pilot.press(key)
        await on_screen(pilot, NumberScreen)
        await pilot.press("ctrl+a", "ctrl+k")
        await typed(pilot, typed_in)
        await pilot.press("enter")
        await on_screen(pilot, SettingsScreen)
        await until(pilot, lambda: sentence in said(app), what=sentence)


async def test_one_record_is_counted_in_the_singular(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, PW)
        counts = app.screen.query_one("#counts", Static)
        await until(pilot, lambda: str(counts.render()).strip() == "1 of 1 record")
        await pilot.press("slash")
        await typed(pilot, "zz")
        await until(pilot, lambda: str(counts.render()).strip() == "0 of 1 record")


def test_counts_and_durations_in_words() -> None:
    assert [plural("record", n) for n in (0, 1, 2, 2100)] == [
        "0 records",
        "1 record",
        "2 records",
        "2,100 records",
    ]
    assert plural("entry", 2) == "2 entries" and plural("address", 2) == "2 addresses"
    assert plural("item of an unknown type", 3) == "3 items of an unknown type"
    assert [duration(s) for s in (1, 60, 90, 900, 3600, 5400, 86400)] == [
        "1 second",
        "1 minute",
        "90 seconds",
        "15 minutes",
        "1 hour",
        "90 minutes",
        "1 day",
    ]


def test_no_message_says_s_in_brackets() -> None:
    """Every string of the program's code: "record(s)" is written with plural() instead."""
    import io
    import re
    import tokenize

    root = Path(__file__).resolve().parents[2]
    found = []
    for package in ("vault", "sync", "runtime", "agent", "cli", "tui"):
        for path in (root / package).rglob("*.py"):
            tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
            for tok in tokens:
                is_text = tok.type == tokenize.STRING or tok.type == getattr(
                    tokenize, "FSTRING_MIDDLE", -1
                )
                if is_text and re.search(r"[a-z]\(s\)", tok.string):
                    found.append(f"{path.relative_to(root)}:{tok.start[0]}")
    allowed = {"vault/words.py"}  # its docstring names what it replaces
    assert [f for f in found if f.split(":")[0] not in allowed] == []
