"""The terminal app driven with the keyboard only (Pilot): sign-up, lock/unlock, list, search, view, edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.app import StrongroomApp
from tui.screens.account import KitScreen, LockScreen, SignUpScreen, WelcomeScreen
from tui.screens.records import EditRecordScreen, RecordDetailScreen, RecordListScreen
from tui.widgets.record_list import RecordList
from vault.records import new_record
from vault.vault import Vault

PW = "tui test password"
SIZE = (100, 30)


@pytest.fixture
def vault_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    v = Vault.create(home, "ann@example.com", PW)
    v.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-secret",
                                         "totp": "JBSWY3DPEHPK3PXP"}, tags=("work",)))
    v.add(new_record("login", "Gmail", {"username": "ann@gmail.com", "password": "mail-secret"}))
    v.add(new_record("note", "Door codes", notes="front 1234"))
    v.close()
    return home


async def _type(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    for ch in text:
        await pilot.press(ch if ch != " " else "space")


async def _wait_for(pilot, app: StrongroomApp, screen_type: type, tries: int = 100) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if isinstance(app.screen, screen_type):
            return
        await pilot.pause(0.05)
    raise AssertionError(f"expected {screen_type.__name__}, on {type(app.screen).__name__}")


async def _titles_become(pilot, lst: RecordList, titles: list[str]) -> bool:  # type: ignore[no-untyped-def]
    """The list reloads in a worker after an edit: wait (up to 5 s) for it to show `titles`."""
    for _ in range(100):
        if [r.title for r in lst.rows] == titles:
            return True
        await pilot.pause(0.05)
    return False


async def _unlock(pilot, app: StrongroomApp, password: str = PW) -> None:  # type: ignore[no-untyped-def]
    await _wait_for(pilot, app, LockScreen)
    await _type(pilot, password)
    await pilot.press("enter")


async def test_sign_up_shows_the_kit_then_the_empty_list(tmp_path: Path) -> None:
    app = StrongroomApp(home=tmp_path / "new", kit_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _wait_for(pilot, app, WelcomeScreen)
        await pilot.press("u")
        await _wait_for(pilot, app, SignUpScreen)
        await _type(pilot, "new@example.com")
        await pilot.press("tab")
        await _type(pilot, "short")
        await pilot.press("tab", "tab")
        await _type(pilot, "short")
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert "at least 8" in str(app.screen.query_one("#message").render())
        screen = app.screen
        screen.query_one("#password").value = "long enough password"
        screen.query_one("#repeat").value = "long enough password"
        await pilot.press("ctrl+s")
        await _wait_for(pilot, app, KitScreen)
        kit_files = sorted(p.name for p in tmp_path.glob("Strongroom-Authentication-Kit-*"))
        assert [n.rsplit(".", 1)[1] for n in kit_files] == ["pdf", "png"]
        await pilot.press("y")
        await _wait_for(pilot, app, RecordListScreen)
        assert "No records yet" in str(app.screen.query_one("#empty").render())


async def test_wrong_password_then_unlock_and_search(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await _unlock(pilot, app, "not the password")
        for _ in range(100):
            await pilot.pause(0.05)
            if "wrong" in str(app.screen.query_one("#message").render()).lower():
                break
        assert isinstance(app.screen, LockScreen)
        assert "wrong" in str(app.screen.query_one("#message").render()).lower()
        await _type(pilot, PW)
        await pilot.press("enter")
        await _wait_for(pilot, app, RecordListScreen)
        lst = app.screen.query_one(RecordList)
        assert await _titles_become(pilot, lst, ["Door codes", "GitHub", "Gmail"])
        await pilot.press("slash")
        await _type(pilot, "gmail")
        for _ in range(50):
            await pilot.pause(0.05)
            if [r.title for r in lst.rows] == ["Gmail"]:
                break
        assert [r.title for r in lst.rows] == ["Gmail"]
        await pilot.press("escape")
        await _type(pilot, "zzzzqqq")  # typing in the list does nothing harmful
        await pilot.press("slash")
        await _type(pilot, "nothing-like-this")
        for _ in range(50):
            await pilot.pause(0.05)
            if not lst.rows:
                break
        assert "No records match “nothing-like-this”" in str(app.screen.query_one("#empty").render())


async def test_view_reveal_copy_edit_and_lock_drops_secrets(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await _unlock(pilot, app)
        await _wait_for(pilot, app, RecordListScreen)
        await pilot.press("down", "enter")  # GitHub
        await _wait_for(pilot, app, RecordDetailScreen)
        text = str(app.screen.query_one("#detail").render())
        assert "GitHub" in text and "gh-secret" not in text
        assert "One-time code" in str(app.screen.query_one("#totp").render())
        await pilot.press("r")
        assert "gh-secret" in str(app.screen.query_one("#detail").render())
        await pilot.press("c")
        assert app._copied == "gh-secret"
        await pilot.press("e")
        await _wait_for(pilot, app, EditRecordScreen)
        app.screen.query_one("#f-password").value = "changed-secret"
        await pilot.press("ctrl+s")
        await _wait_for(pilot, app, RecordDetailScreen)
        assert "changed-secret" in str(app.screen.query_one("#detail").render())
        await pilot.press("ctrl+l")
        await _wait_for(pilot, app, LockScreen)
        assert app.vault is None and len(app.screen_stack) == 2 and app._copied is None
        assert not any(isinstance(s, RecordDetailScreen) for s in app.screen_stack)
    v = Vault.open(vault_home)
    v.unlock(PW)
    assert v.record(v.find("GitHub")).value("password") == "changed-secret"


async def test_add_record_and_delete_with_confirmation(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await _unlock(pilot, app)
        await _wait_for(pilot, app, RecordListScreen)
        await pilot.press("n")
        await _wait_for(pilot, app, EditRecordScreen)
        app.screen.query_one("#title").value = "Bank"
        await pilot.press("ctrl+g")
        assert len(app.screen.query_one("#f-password").value) == 20
        await pilot.press("ctrl+s")
        await _wait_for(pilot, app, RecordListScreen)
        lst = app.screen.query_one(RecordList)
        assert await _titles_become(pilot, lst, ["Bank", "Door codes", "GitHub", "Gmail"])
        await pilot.press("home", "enter")
        await _wait_for(pilot, app, RecordDetailScreen)
        await pilot.press("d", "n")
        assert isinstance(app.screen, RecordDetailScreen)
        await pilot.press("d", "y")
        await _wait_for(pilot, app, RecordListScreen)
        assert await _titles_become(pilot, lst, ["Door codes", "GitHub", "Gmail"])


async def test_screenshot_command_is_removed(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = [c.title.lower() for c in app.get_system_commands(app.screen)]
        assert titles and not any("screenshot" in t for t in titles)
