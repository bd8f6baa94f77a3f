"""A newcomer's walk through the app (issue 20), with the keyboard only: each rough edge they met,
shown gone."""

from __future__ import annotations

from pathlib import Path

from pilotkit import on_screen, typed, unlock, until
from textual.widgets import Static

from tui.app import StrongroomApp
from tui.screens.account import SignUpScreen, WelcomeScreen
from tui.screens.settings import ChangePasswordScreen, SettingsScreen
from vault.records import new_record
from vault.vault import Vault

PW = "newcomer app password"
SIZE = (80, 24)


def _text(screen, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(screen.query_one(selector, Static).render())


def _home(path: Path) -> Path:
    v = Vault.create(path, "ann@example.com", PW)
    v.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-secret"}))
    v.close()
    return path


async def test_sign_up_refuses_a_common_password(tmp_path: Path) -> None:
    """`password` is long enough but top-10 common: refused, with the rating, no account made."""
    app = StrongroomApp(home=tmp_path / "new", kit_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, WelcomeScreen)
        await pilot.press("u")
        await on_screen(pilot, SignUpScreen)
        await typed(pilot, "new@example.com")
        await pilot.press("tab")
        await typed(pilot, "password")
        await pilot.press("tab", "tab")
        await typed(pilot, "password")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "too easy" in _text(app.screen, "#message"), what="refusal")
        assert "very weak" in _text(app.screen, "#message")
        assert "strong" in _text(app.screen, "#message")
    assert not Vault.exists(tmp_path / "new")


async def test_password_change_refuses_a_weak_new_password(tmp_path: Path) -> None:
    home = _home(tmp_path / "home")
    app = StrongroomApp(home=home, kit_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await pilot.press("comma")
        await on_screen(pilot, SettingsScreen)
        await pilot.press("p")
        await on_screen(pilot, ChangePasswordScreen)
        for text in (PW, "password1", "password1"):
            await typed(pilot, text)
            await pilot.press("enter")
        await until(pilot, lambda: "too easy" in _text(app.screen, "#message"), what="refusal")
        assert isinstance(app.screen, ChangePasswordScreen)
    assert not list(tmp_path.glob("Strongroom-Authentication-Kit-*"))
