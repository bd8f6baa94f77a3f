"""The Account Password again before a secret is shown, copied or exported, once it was last
typed (or a secret last shown) longer ago than the "password again" minutes: the real app by
keys, a real vault; time passing is set on the app's own clock (no test waits minutes)."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest
from pilotkit import on_screen, typed, unlock, until
from textual.widgets import Static

from tui.app import DEFAULT_REAUTH_MIN, StrongroomApp
from tui.screens.history import HistoryScreen
from tui.screens.importer import ExportScreen, PlaintextConfirmScreen
from tui.screens.reauth import ReauthScreen
from tui.screens.records import RecordDetailScreen, RecordListScreen
from tui.screens.settings import NumberScreen, SettingsScreen
from tui.widgets.path_input import PathInput
from vault.records import new_record
from vault.vault import Vault

PW = "reauth test password"
SIZE = (100, 34)
MASK = "••••••••"


@pytest.fixture
def vault_home(home: Path) -> Path:
    v = Vault.create(home, "ann@example.com", PW)
    v.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-old"}))
    v.close()
    return home


def _text(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


def _overview(screen: object) -> str:
    """The settings overview as drawn, its wrapped lines joined (whitespace collapsed)."""
    static = screen.query_one("#overview", Static)  # type: ignore[attr-defined]
    lines = static.render_lines(static.region.reset_offset)
    return " ".join(" ".join(s.text.split()) for s in lines)


def _stale(app: StrongroomApp, minutes: float = DEFAULT_REAUTH_MIN + 1) -> None:
    """The password was last typed (or a secret shown) this many minutes ago."""
    app._proven_at = time.monotonic() - minutes * 60


async def _open_github(pilot: object, app: StrongroomApp) -> RecordDetailScreen:
    await unlock(pilot, PW)
    await pilot.press("enter")  # type: ignore[attr-defined]
    await on_screen(pilot, RecordDetailScreen)
    screen = app.screen
    assert isinstance(screen, RecordDetailScreen)
    return screen


async def test_revealing_after_the_idle_time_asks_for_the_password(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        detail = await _open_github(pilot, app)
        await pilot.press("r")  # just unlocked: shown at once
        await until(pilot, lambda: "gh-old" in _text(detail, "#detail"), what="the password")
        await pilot.press("r")
        assert "gh-old" not in _text(detail, "#detail")

        _stale(app)
        await pilot.press("r")
        await on_screen(pilot, ReauthScreen)
        assert "gh-old" not in _text(detail, "#detail")
        await typed(pilot, "not the password")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: (
                "Wrong Account Password: nothing was shown" in _text(app.screen, "#reauth-message")
            ),
            what="the refusal",
        )
        assert isinstance(app.screen, ReauthScreen) and not detail.revealed
        await typed(pilot, PW)
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        assert detail.revealed and "gh-old" in _text(detail, "#detail")
        await pilot.press("r", "r")  # hidden, then shown again without asking: fresh again
        await pilot.pause(0.1)
        assert isinstance(app.screen, RecordDetailScreen) and detail.revealed

        await pilot.press("r")
        _stale(app)
        await pilot.press("r")
        await on_screen(pilot, ReauthScreen)
        await pilot.press("escape")  # gives up: nothing shown
        await on_screen(pilot, RecordDetailScreen)
        assert not detail.revealed and "gh-old" not in _text(detail, "#detail")

        # copying the password is showing it too
        _stale(app)
        await pilot.press("c")  # the password is the field chosen first
        await on_screen(pilot, ReauthScreen)
        assert app.secret_clipboard.copied is None
        await typed(pilot, PW)
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        await until(pilot, lambda: app.secret_clipboard.copied == "gh-old", what="the copy")
        app.secret_clipboard.clear()
        await pilot.press("u")  # a username is not a secret: never asks
        await until(pilot, lambda: app.secret_clipboard.copied == "ann", what="the username")

        # the history's secrets too
        _stale(app)
        await pilot.press("h")
        await on_screen(pilot, HistoryScreen)
        await pilot.press("r")
        await on_screen(pilot, ReauthScreen)
        await pilot.press("escape")
        await on_screen(pilot, HistoryScreen)
        assert not app.screen.revealed  # type: ignore[attr-defined]


async def test_export_after_the_idle_time_asks_for_the_password(
    vault_home: Path, tmp_path: Path
) -> None:
    app = StrongroomApp(home=vault_home, kit_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        out = tmp_path / "out.json"
        for password, written in (("wrong password here", False), (PW, True)):
            _stale(app)
            app.action_export_records()
            await on_screen(pilot, ExportScreen)
            await pilot.press("enter")  # json
            field = app.screen.query_one("#export-path", PathInput)
            field.value = str(out)
            await pilot.press("enter")
            await on_screen(pilot, PlaintextConfirmScreen)
            await pilot.press("y")
            await on_screen(pilot, ReauthScreen)
            assert not out.exists()
            await typed(pilot, password)
            await pilot.press("enter")
            if not written:
                await until(
                    pilot,
                    lambda: "Wrong Account Password" in _text(app.screen, "#reauth-message"),
                    what="the refusal",
                )
                await pilot.press("escape")
                await on_screen(pilot, ExportScreen)
                assert "Not exported until" in _text(app.screen, "#export-status")
                assert not out.exists()
                await pilot.press("escape")
                await on_screen(pilot, RecordListScreen)
            else:
                await on_screen(pilot, RecordListScreen)
    assert out.exists() and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "gh-old" in out.read_text()


async def test_the_minutes_are_a_setting_in_the_app_and_the_settings_file(
    vault_home: Path, tmp_path: Path
) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        detail = await _open_github(pilot, app)
        await pilot.press("escape")
        await pilot.press("comma")
        await on_screen(pilot, SettingsScreen)
        assert "again before showing a secret or exporting: after 5 minutes" in _overview(
            app.screen
        )
        await pilot.press("e")
        await on_screen(pilot, NumberScreen)
        await pilot.press("ctrl+a", "ctrl+k")
        await typed(pilot, "0")
        await pilot.press("enter")
        await on_screen(pilot, SettingsScreen)
        assert "exporting: never" in _overview(app.screen)
        assert app.vault is not None and app.vault.settings()["reauth_minutes"] == 0
        await pilot.press("escape")
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        detail = app.screen  # type: ignore[assignment]
        _stale(app, 24 * 60)
        await pilot.press("r")  # 0 = never asks
        await until(pilot, lambda: "gh-old" in _text(detail, "#detail"), what="the password")

    settings = tmp_path / "settings.toml"
    settings.write_text('[security]\nreauth_minutes = 30\nclipboard_seconds = "soon"\n')
    app = StrongroomApp(home=vault_home, settings_file=settings)
    async with app.run_test(size=SIZE) as pilot:
        await until(
            pilot,
            lambda: any("clipboard_seconds" in str(n.message) for n in app._notifications),
            what="the bad entry reported",
        )
        detail = await _open_github(pilot, app)
        _stale(app, 20)  # the file's 30 minutes win over the app's 0 and the default 5
        await pilot.press("r")
        await until(pilot, lambda: "gh-old" in _text(detail, "#detail"), what="the password")
        await pilot.press("r")
        _stale(app, 31)
        await pilot.press("r")
        await on_screen(pilot, ReauthScreen)
        await pilot.press("escape")
        await on_screen(pilot, RecordDetailScreen)
        await pilot.press("escape")
        await pilot.press("comma")
        await on_screen(pilot, SettingsScreen)
        assert "after 30 minutes (settings file)" in _overview(app.screen)
        await pilot.press("e")
        await on_screen(pilot, NumberScreen)
        assert any("change it there" in str(s.render()) for s in app.screen.query(Static))
        assert not app.screen.query("#number")  # nothing to type: the file decides
