"""Idle auto-lock: typing anywhere (also into a text field) counts as activity; idle time locks."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pilotkit import unlock
from textual.widgets import Input

from tui.app import StrongroomApp
from tui.screens.account import LockScreen
from tui.screens.records import EditRecordScreen
from vault.vault import Vault

PW = "idle test password"


@pytest.fixture
def vault_home(home: Path) -> Path:
    Vault.create(home, "ann@example.com", PW).close()
    return home


async def test_typing_into_a_form_field_keeps_the_app_unlocked(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot, PW)
        await pilot.press("n")
        for _ in range(40):
            if isinstance(app.screen, EditRecordScreen):
                break
            await pilot.pause(0.05)
        await pilot.press("tab")  # into a text field
        assert isinstance(app.focused, Input)
        # Not "set the last input long ago, then type": the app's own idle check may run while
        # the key is on its way and lock first (seen under load). Typing must move the mark on.
        before = app._last_input
        await pilot.pause(0.05)
        await pilot.press("a")
        assert app._last_input > before, "a key typed into an Input must reset the idle timer"
        app._check_idle()
        assert isinstance(app.screen, EditRecordScreen) and app.vault is not None


async def test_idle_time_locks_and_forgets_the_keys(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot, PW)
        app._last_input = time.monotonic() - 3600
        app._check_idle()
        await pilot.pause(0.1)
        assert isinstance(app.screen, LockScreen) and app.vault is None
