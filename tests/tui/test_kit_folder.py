"""The app's Kit files (issue 20, item 14), keys only: started from some folder with no Kit
folder given, it saves the Kit in the user's documents folder (home when there is none), never in
the folder it was started from, and a second save is numbered instead of replacing the first."""

from __future__ import annotations

from pathlib import Path

import pytest
from pilotkit import on_screen, typed, unlock, until
from textual.widgets import Static

from tui.app import StrongroomApp
from tui.screens.account import KitScreen, SignUpScreen, WelcomeScreen
from tui.screens.records import RecordListScreen
from tui.screens.settings import SettingsScreen
from vault.vault import Vault

PW = "kit folder app password"


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A person's home with a Documents folder; the app is started from a project folder."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    (tmp_path / "Documents").mkdir()
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    return tmp_path


def kits(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("Strongroom-Authentication-Kit-*"))


async def test_sign_up_saves_the_kit_in_documents_and_a_second_save_is_numbered(
    desk: Path,
) -> None:
    app = StrongroomApp(home=desk / "data")  # no kit_dir: the app's own default
    async with app.run_test(size=(80, 24)) as pilot:
        await on_screen(pilot, WelcomeScreen)
        await pilot.press("u")
        await on_screen(pilot, SignUpScreen)
        await typed(pilot, "ann@example.com")
        await pilot.press("tab")
        await typed(pilot, PW)
        await pilot.press("tab")  # to the repeat
        await typed(pilot, PW)
        await pilot.press("ctrl+s")
        await on_screen(pilot, KitScreen)
        account = app.vault.slot.account_id  # type: ignore[union-attr]
        stem = f"Strongroom-Authentication-Kit-{account}"
        assert kits(desk / "Documents") == [f"{stem}.pdf", f"{stem}.png"]
        assert kits(desk / "project") == []  # not where the app was started
        shown = "\n".join(str(s.render()) for s in app.screen.query(Static))
        assert f"~/Documents/{stem}.pdf" in shown
        first = {p: p.read_bytes() for p in (desk / "Documents").iterdir()}
        await pilot.press("y")
        await on_screen(pilot, RecordListScreen)
        await pilot.press("comma")
        await on_screen(pilot, SettingsScreen)
        await pilot.press("w")  # save the Kit again
        await until(pilot, lambda: len(kits(desk / "Documents")) == 4, what="the second Kit")
        assert kits(desk / "Documents") == [
            f"{stem} (2).pdf",
            f"{stem} (2).png",
            f"{stem}.pdf",
            f"{stem}.png",
        ]
        assert {p: p.read_bytes() for p in first} == first  # the first pair as it was
        notes = " ".join(str(n.message) for n in app._notifications)
        assert f"~/Documents/{stem} (2).png" in notes


async def test_without_documents_the_kit_goes_home(desk: Path) -> None:
    (desk / "Documents").rmdir()
    home = desk / "data"
    Vault.create(home, "ann@example.com", PW).close()
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, PW)
        await pilot.press("comma")
        await on_screen(pilot, SettingsScreen)
        await pilot.press("w")
        await until(pilot, lambda: len(kits(desk)) == 2, what="the Kit in the home folder")
        assert kits(desk / "project") == []
