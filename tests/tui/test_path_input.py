"""Path completion (tui/widgets/path_input.py) on a real folder tree, and in a real app by keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input

from tui.widgets.path_input import PathInput, complete_path

KIT = (".png", ".jpg", ".jpeg", ".pdf", ".txt")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "Downloads").mkdir()
    (tmp_path / "Documents").mkdir()
    (tmp_path / "Dropbox" / "Strongroom").mkdir(parents=True)
    (tmp_path / "Downloads" / "Strongroom-Authentication-Kit-A1.pdf").write_bytes(b"%PDF")
    (tmp_path / "Downloads" / "notes.md").write_text("x")
    (tmp_path / ".hidden").mkdir()
    return tmp_path


def test_unique_match_completes_fully_and_folders_get_a_slash(tree: Path) -> None:
    assert complete_path(f"{tree}/Dr") == f"{tree}/Dropbox/"
    assert complete_path(f"{tree}/Dropbox/S") == f"{tree}/Dropbox/Strongroom/"
    assert (
        complete_path(f"{tree}/Downloads/S")
        == f"{tree}/Downloads/Strongroom-Authentication-Kit-A1.pdf"
    )


def test_several_matches_complete_the_common_part_then_offer_the_first(tree: Path) -> None:
    (tree / "kit-2024.png").write_bytes(b"")
    (tree / "kit-2025.png").write_bytes(b"")
    assert complete_path(f"{tree}/k") == f"{tree}/kit-202"
    assert (
        complete_path(f"{tree}/kit-202") == f"{tree}/kit-2024.png"
    )  # nothing common beyond: first, sorted
    assert complete_path(f"{tree}/D") == f"{tree}/Documents/"  # Documents, Downloads, Dropbox
    assert complete_path(f"{tree}/Dow") == f"{tree}/Downloads/"


def test_filters_hidden_and_nothing_to_offer(tree: Path) -> None:
    assert complete_path(f"{tree}/Downloads/n", suffixes=KIT) is None  # notes.md is no Kit file
    assert complete_path(f"{tree}/Downloads/n") == f"{tree}/Downloads/notes.md"
    assert complete_path(f"{tree}/Downloads/S", dirs_only=True) is None
    assert complete_path(f"{tree}/.h") == f"{tree}/.hidden/"
    assert complete_path(f"{tree}/") == f"{tree}/D"  # .hidden is not offered
    assert complete_path(f"{tree}/Downloads/") is None  # two names, nothing in common: no guess
    assert complete_path(f"{tree}/Dropbox/") == f"{tree}/Dropbox/Strongroom/"  # its only entry
    assert (
        complete_path(f"{tree}/Dropbox/", dirs_only=True) is None
    )  # a folder chosen: not descended
    assert complete_path(f"{tree}/missing/x") is None
    assert complete_path(f"{tree}/Downloads/notes.md/x") is None  # a file is no folder
    assert complete_path(f"{tree}/Dropbox/Strongroom/") is None  # empty folder
    assert complete_path("") is None


def test_home_and_relative_paths_keep_what_was_typed(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tree))
    assert complete_path("~") == "~/"
    assert complete_path("~/Dr") == "~/Dropbox/"
    monkeypatch.chdir(tree / "Downloads")
    assert complete_path("Str", suffixes=KIT) == "Strongroom-Authentication-Kit-A1.pdf"


class _Form(App[None]):
    def compose(self) -> ComposeResult:
        yield PathInput(id="path", suffixes=KIT)
        yield Input(id="next")


async def test_tab_and_right_accept_the_completion_then_tab_moves_on(tree: Path) -> None:
    app = _Form()
    async with app.run_test() as pilot:
        field = app.query_one("#path", PathInput)
        field.insert_text_at_cursor(f"{tree}/Dr")
        await pilot.pause(0.2)
        assert field.completion == f"{tree}/Dropbox/"
        await pilot.press("tab")
        assert field.value == f"{tree}/Dropbox/" and app.focused is field
        await pilot.press("ctrl+u")
        field.insert_text_at_cursor(f"{tree}/D")
        await pilot.press("o", "w")
        await pilot.pause(0.2)
        await pilot.press("right")
        assert field.value == f"{tree}/Downloads/"
        await pilot.press("S")
        await pilot.pause(0.2)
        await pilot.press("tab")
        assert field.value == f"{tree}/Downloads/Strongroom-Authentication-Kit-A1.pdf"
        await pilot.pause(0.2)
        await pilot.press("tab")  # nothing more to complete: the next field
        assert app.focused is app.query_one("#next", Input)
