"""The terminal app driven with the keyboard only (Pilot): sign-up, lock/unlock, list, search, view, edit."""

from __future__ import annotations

from pathlib import Path

import pytest
from pilotkit import on_screen, typed, until

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
    v.add(
        new_record(
            "login",
            "GitHub",
            {"username": "ann", "password": "gh-secret", "totp": "JBSWY3DPEHPK3PXP"},
            tags=("work",),
        )
    )
    v.add(new_record("login", "Gmail", {"username": "ann@gmail.com", "password": "mail-secret"}))
    v.add(new_record("note", "Door codes", notes="front 1234"))
    v.close()
    return home


async def _titles_become(pilot, lst: RecordList, titles: list[str]) -> None:  # type: ignore[no-untyped-def]
    """The list reloads in a worker after an edit: wait for it to show `titles`."""
    await until(
        pilot, lambda: [r.title for r in lst.rows] == titles, what=f"the list to show {titles}"
    )


async def _enter_password(pilot, password: str = PW) -> None:  # type: ignore[no-untyped-def]
    """On the lock screen, type a password (right or wrong) and press Enter."""
    await on_screen(pilot, LockScreen)
    await typed(pilot, password)
    await pilot.press("enter")


async def test_sign_up_shows_the_kit_then_the_empty_list(tmp_path: Path) -> None:
    app = StrongroomApp(home=tmp_path / "new", kit_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, WelcomeScreen)
        await pilot.press("u")
        await on_screen(pilot, SignUpScreen)
        await typed(pilot, "new@example.com")
        await pilot.press("tab")
        await typed(pilot, "short")
        await pilot.press("tab", "tab")
        await typed(pilot, "short")
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert "at least 8" in str(app.screen.query_one("#message").render())
        screen = app.screen
        screen.query_one("#password").value = "long enough password"
        screen.query_one("#repeat").value = "long enough password"
        await pilot.press("ctrl+s")
        await on_screen(pilot, KitScreen)
        kit_files = sorted(p.name for p in tmp_path.glob("Strongroom-Authentication-Kit-*"))
        assert [n.rsplit(".", 1)[1] for n in kit_files] == ["pdf", "png"]
        await pilot.press("y")
        await on_screen(pilot, RecordListScreen)
        assert "No records yet" in str(app.screen.query_one("#empty").render())


async def test_wrong_password_then_unlock_and_search(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await _enter_password(pilot, "not the password")
        for _ in range(100):
            await pilot.pause(0.05)
            if "wrong" in str(app.screen.query_one("#message").render()).lower():
                break
        assert isinstance(app.screen, LockScreen)
        assert "wrong" in str(app.screen.query_one("#message").render()).lower()
        await typed(pilot, PW)
        await pilot.press("enter")
        await on_screen(pilot, RecordListScreen)
        lst = app.screen.query_one(RecordList)
        await _titles_become(pilot, lst, ["Door codes", "GitHub", "Gmail"])
        await pilot.press("slash")
        await typed(pilot, "gmail")
        for _ in range(50):
            await pilot.pause(0.05)
            if [r.title for r in lst.rows] == ["Gmail"]:
                break
        assert [r.title for r in lst.rows] == ["Gmail"]
        await pilot.press("escape")
        await typed(pilot, "zzzzqqq")  # typing in the list does nothing harmful
        await pilot.press("slash")
        await typed(pilot, "nothing-like-this")
        for _ in range(50):
            await pilot.pause(0.05)
            if not lst.rows:
                break
        assert "No records match “nothing-like-this”" in str(
            app.screen.query_one("#empty").render()
        )


async def test_view_reveal_copy_edit_and_lock_drops_secrets(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await _enter_password(pilot)
        await on_screen(pilot, RecordListScreen)
        await pilot.press("down", "enter")  # GitHub
        await on_screen(pilot, RecordDetailScreen)
        text = str(app.screen.query_one("#detail").render())
        assert "GitHub" in text and "gh-secret" not in text
        assert "One-time code" in str(app.screen.query_one("#totp").render())
        await pilot.press("r")
        assert "gh-secret" in str(app.screen.query_one("#detail").render())
        await pilot.press("c")
        assert app.secret_clipboard.copied == "gh-secret"
        await pilot.press("e")
        await on_screen(pilot, EditRecordScreen)
        app.screen.query_one("#f-password").value = "changed-secret"
        await pilot.press("ctrl+s")
        await on_screen(pilot, RecordDetailScreen)
        assert "changed-secret" in str(app.screen.query_one("#detail").render())
        await pilot.press("ctrl+l")
        await on_screen(pilot, LockScreen)
        assert (
            app.vault is None and len(app.screen_stack) == 2 and app.secret_clipboard.copied is None
        )
        assert not any(isinstance(s, RecordDetailScreen) for s in app.screen_stack)
    v = Vault.open(vault_home)
    v.unlock(PW)
    assert v.record(v.find("GitHub")).value("password") == "changed-secret"


async def test_add_record_and_delete_with_confirmation(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await _enter_password(pilot)
        await on_screen(pilot, RecordListScreen)
        await pilot.press("n")
        await on_screen(pilot, EditRecordScreen)
        app.screen.query_one("#title").value = "Bank"
        await pilot.press("ctrl+g")
        assert len(app.screen.query_one("#f-password").value) == 20
        await pilot.press("ctrl+s")
        await on_screen(pilot, RecordListScreen)
        lst = app.screen.query_one(RecordList)
        await _titles_become(pilot, lst, ["Bank", "Door codes", "GitHub", "Gmail"])
        await pilot.press("home", "enter")
        await on_screen(pilot, RecordDetailScreen)
        await pilot.press("d", "n")
        assert isinstance(app.screen, RecordDetailScreen)
        await pilot.press("d", "y")
        await on_screen(pilot, RecordListScreen)
        await _titles_become(pilot, lst, ["Door codes", "GitHub", "Gmail"])


async def test_screenshot_command_is_removed(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = [c.title.lower() for c in app.get_system_commands(app.screen)]
        assert titles and not any("screenshot" in t for t in titles)
