"""Settings, driven with the keyboard only: password change and key rotation issue a new Kit,
security times are validated, the theme survives a restart, a backup restores with the CLI."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from clikit import cli_env, run_cli
from pilotkit import on_screen, typed, unlock, until
from textual.widgets import OptionList, Static

from tui.app import StrongroomApp
from tui.screens.account import LockScreen
from tui.screens.records import ConfirmScreen, RecordListScreen
from tui.screens.settings import (
    BackupScreen,
    ChangePasswordScreen,
    NewKitScreen,
    NumberScreen,
    RestoreScreen,
    RotateKeyScreen,
    SettingsScreen,
    ThemeScreen,
    theme_names,
)
from vault.records import new_record
from vault.vault import Vault

PW = "settings test password"
NEW_PW = "a brand new passphrase"
SIZE = (100, 30)


@pytest.fixture
def vault_home(home: Path) -> Path:
    v = Vault.create(home, "ann@example.com", PW)
    v.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-secret"}))
    v.add(new_record("note", "Door codes", notes="front 1234"))
    v.close()
    return home


async def _settings(pilot) -> None:  # type: ignore[no-untyped-def]
    await unlock(pilot, PW)
    await pilot.press("comma")
    await on_screen(pilot, SettingsScreen)


def _text(screen, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(screen.query_one(selector, Static).render())


def _lines(screen, selector: str) -> str:  # type: ignore[no-untyped-def]
    """What the widget shows, line by line (the overview's table as it is drawn)."""
    static = screen.query_one(selector, Static)
    return "\n".join(s.text.rstrip() for s in static.render_lines(static.region.reset_offset))


def _backups(screen) -> str:  # type: ignore[no-untyped-def]
    listing = screen.query_one("#backup-list", OptionList)
    return "\n".join(
        str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)
    )


async def test_changed_password_unlocks_the_old_one_is_refused_and_a_new_kit_is_shown(
    vault_home: Path, tmp_path: Path
) -> None:
    app = StrongroomApp(home=vault_home, kit_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _settings(pilot)
        old_kit = app.vault.slot.kit.to_typed_code()  # type: ignore[union-attr]
        await pilot.press("p")
        await on_screen(pilot, ChangePasswordScreen)
        await typed(pilot, "not the password")
        await pilot.press("enter")
        await typed(pilot, NEW_PW)
        await pilot.press("enter")
        await typed(pilot, NEW_PW)
        await pilot.press("enter")
        for _ in range(100):
            if "wrong" in _text(app.screen, "#message").lower():
                break
            await pilot.pause(0.05)
        assert "wrong account password" in _text(app.screen, "#message").lower()
        assert app.vault.slot.kit.to_typed_code() == old_kit  # type: ignore[union-attr]

        await typed(pilot, PW)  # the fields were cleared and the first one focused again
        await pilot.press("enter")
        await typed(pilot, NEW_PW)
        await pilot.press("enter")
        await typed(pilot, "a brand new passphrasf")
        await pilot.press("enter")
        assert "differ" in _text(app.screen, "#message")
        app.screen.query_one("#repeat").value = ""  # type: ignore[attr-defined]
        app.screen.query_one("#repeat").focus()
        await typed(pilot, NEW_PW)
        await pilot.press("enter")

        await on_screen(pilot, NewKitScreen)
        new_kit = app.vault.slot.kit.to_typed_code()  # type: ignore[union-attr]
        assert new_kit != old_kit
        assert "\n".join(app.vault.slot.kit.typed_code_rows()) in _text(app.screen, "#code")  # type: ignore[union-attr]
        assert sorted(p.suffix for p in tmp_path.glob("Strongroom-Authentication-Kit-*")) == [
            ".pdf",
            ".png",
        ]
        await pilot.press("escape")  # the new Kit must be acknowledged
        await pilot.pause(0.1)
        assert isinstance(app.screen, NewKitScreen)
        await pilot.press("y")
        await on_screen(pilot, SettingsScreen)

        await pilot.press("ctrl+l")
        await on_screen(pilot, LockScreen)
        await typed(pilot, PW)  # the old password
        await pilot.press("enter")
        await until(
            pilot, lambda: "wrong" in _text(app.screen, "#message").lower(), what="'wrong password'"
        )
        assert isinstance(app.screen, LockScreen) and app.vault is None
        await typed(pilot, NEW_PW)
        await pilot.press("enter")
        await on_screen(pilot, RecordListScreen)
        assert len(app.vault.summaries()) == 2  # type: ignore[union-attr]

    reopened = Vault.open(vault_home)
    reopened.unlock(NEW_PW)
    assert reopened.slot.kit.to_typed_code() == new_kit
    reopened.close()


async def test_rotating_the_account_key_confirms_then_shows_a_new_kit(
    vault_home: Path, tmp_path: Path
) -> None:
    app = StrongroomApp(home=vault_home, kit_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _settings(pilot)
        old = app.vault.slot.kit  # type: ignore[union-attr]
        await pilot.press("r")
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("n")
        await on_screen(pilot, SettingsScreen)
        await pilot.press("r")
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await on_screen(pilot, RotateKeyScreen)
        await typed(pilot, "wrong password")
        await pilot.press("enter")
        for _ in range(100):
            if "wrong" in _text(app.screen, "#message").lower():
                break
            await pilot.pause(0.05)
        assert "wrong" in _text(app.screen, "#message").lower()
        await typed(pilot, PW)
        await pilot.press("enter")
        await on_screen(pilot, NewKitScreen)
        new = app.vault.slot.kit  # type: ignore[union-attr]
        assert new.eak != old.eak and new.epoch == old.epoch + 1
        assert "\n".join(new.typed_code_rows()) in _text(app.screen, "#code")
        await pilot.press("y")
        await on_screen(pilot, SettingsScreen)
    v = Vault.open(vault_home)
    v.unlock(PW)  # the password stays the same
    assert v.slot.kit.to_bytes() == new.to_bytes()
    v.close()


async def test_bad_auto_lock_minutes_are_refused_and_a_good_value_is_used(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await _settings(pilot)
        assert "after 5 minutes" in _lines(app.screen, "#overview")
        for bad in ("soon", "-1", "99999", "2.5", "1_0", ""):
            await pilot.press("a")
            await on_screen(pilot, NumberScreen)
            await pilot.press("ctrl+a", "ctrl+k")  # empty the field
            await typed(pilot, bad)
            await pilot.press("enter")
            await pilot.pause(0.05)
            assert isinstance(app.screen, NumberScreen), bad
            assert "whole number of minutes from 0 to 1440" in _text(app.screen, "#message"), bad
            assert "auto_lock_minutes" not in app.vault.settings()  # type: ignore[union-attr]
            await pilot.press("escape")
            await on_screen(pilot, SettingsScreen)

        await pilot.press("a")
        await on_screen(pilot, NumberScreen)
        await pilot.press("ctrl+a", "ctrl+k")
        await typed(pilot, "1")
        await pilot.press("enter")
        await on_screen(pilot, SettingsScreen)
        assert "after 1 minute" in _lines(app.screen, "#overview")
        assert app.vault.settings()["auto_lock_minutes"] == 1  # type: ignore[union-attr]

        app._last_input = (
            time.monotonic() - 90
        )  # idle 1.5 minutes: locks now, not with the default 5
        await on_screen(pilot, LockScreen, seconds=3)
        await pilot.pause(0.2)
        assert app.vault is None


async def test_clipboard_seconds_are_saved(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await _settings(pilot)
        await pilot.press("c")
        await on_screen(pilot, NumberScreen)
        await pilot.press("ctrl+a", "ctrl+k")
        await typed(pilot, "12")
        await pilot.press("enter")
        await on_screen(pilot, SettingsScreen)
        assert "clear copied values: after 12 seconds" in _lines(app.screen, "#overview")
    v = Vault.open(vault_home)
    assert v.settings()["clipboard_seconds"] == 12
    v.close()


async def test_history_and_trash_retention_are_saved_and_used(vault_home: Path) -> None:
    """v, h and d in Settings: versions kept, days kept, days in the trash; a bad value is
    refused; what is saved is what the vault prunes and purges with."""
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await _settings(pilot)
        assert "keep the last 50 versions" in _lines(app.screen, "#overview")
        for key, value in (("v", "3"), ("h", "0"), ("d", "7")):
            await pilot.press(key)
            await on_screen(pilot, NumberScreen)
            await pilot.press("ctrl+a", "ctrl+k")
            await typed(pilot, value)
            await pilot.press("enter")
            await on_screen(pilot, SettingsScreen)
        await pilot.press("d")
        await on_screen(pilot, NumberScreen)
        await pilot.press("ctrl+a", "ctrl+k")
        await typed(pilot, "-1")
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, NumberScreen)  # refused, nothing saved
        await pilot.press("escape")
        await on_screen(pilot, SettingsScreen)
        overview = _lines(app.screen, "#overview")
        assert "keep the last 3 versions" in overview and "no age limit" in overview
        assert "purge the trash after 7 days" in overview
    v = Vault.open(vault_home)
    v.unlock(PW)
    assert v.retention() == (3, 0.0, 7.0)
    v.close()


async def test_chosen_theme_is_kept_across_a_restart(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await _settings(pilot)
        assert app.theme != "ansi-light"
        await pilot.press("t")
        await on_screen(pilot, ThemeScreen)
        names = theme_names(app)
        assert names[:2] == ["ansi-dark", "ansi-light"]
        await pilot.press("home", "down", "enter")
        await on_screen(pilot, SettingsScreen)
        assert app.theme == "ansi-light"

    again = StrongroomApp(home=vault_home)
    async with again.run_test(size=SIZE) as pilot:
        await on_screen(pilot, LockScreen)  # applied before unlocking: the theme is not secret
        assert again.theme == "ansi-light"


async def test_backup_now_restores_with_the_cli(vault_home: Path, tmp_path: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await _settings(pilot)
        assert "No backups" in _backups(app.screen)
        await pilot.press("b")
        await on_screen(pilot, BackupScreen)
        await pilot.press("ctrl+a", "ctrl+k")
        await typed(pilot, str(tmp_path / "missing"))
        await pilot.press("enter")
        for _ in range(100):
            if "does not exist" in _text(app.screen, "#message"):
                break
            await pilot.pause(0.05)
        assert "does not exist" in _text(app.screen, "#message")
        await pilot.press("escape")
        await on_screen(pilot, SettingsScreen)
        await pilot.press("b")  # default folder: the home's backups folder, made on first use
        await on_screen(pilot, BackupScreen)
        await pilot.press("enter")
        await on_screen(pilot, SettingsScreen)
        for _ in range(100):
            if "2 records" in _backups(app.screen):
                break
            await pilot.pause(0.05)
        assert "2 records" in _backups(app.screen)
    files = list((vault_home / "backups").glob("*.srbk"))
    assert len(files) == 1 and files[0].stat().st_mode & 0o077 == 0

    other = tmp_path / "restored"
    r = run_cli(
        cli_env(other, PW, STRONGROOM_BACKUP_PASSWORD=PW), "backup", "restore", str(files[0])
    )
    assert r.returncode == 0, r.stderr
    restored = Vault.open(other)
    restored.unlock(PW)
    assert sorted(s.title for s in restored.summaries()) == ["Door codes", "GitHub"]
    restored.close()


async def test_every_settings_action_is_in_the_command_palette(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await pilot.press("ctrl+p")
        await pilot.pause(0.1)
        await typed(pilot, "auto-lock")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await on_screen(pilot, NumberScreen)
        names = {name for name, *_ in app.palette_commands()}
        assert {
            "Settings",
            "Change Account Password",
            "Rotate Account Key",
            "Auto-lock minutes",
            "Clipboard seconds",
            "Theme: choose",
            "Back up now",
            "Show Authentication Kit",
            "Save Authentication Kit",
        } <= names


def test_settings_snapshot(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Fixed account id and home folder, so the screen is the same on every run."""
    import vault.keys

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(vault.keys, "new_account_id", lambda: "ABCDEFGH23")
    home = tmp_path / ".strongroom"
    Vault.create(home, "ann@example.com", PW).close()
    (tmp_path / "Documents").mkdir()

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settings(pilot)
        await pilot.pause(0.3)

    assert snap_compare(
        StrongroomApp(home=home, kit_dir=tmp_path / "Documents"), run_before=run, terminal_size=SIZE
    )


async def test_y_opens_the_sync_settings(vault_home: Path) -> None:
    from tui.screens.sync import SyncScreen

    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await _settings(pilot)
        assert "method: none" in _lines(app.screen, "#overview")
        await pilot.press("y")
        await on_screen(pilot, SyncScreen)
        await pilot.press("escape")
        await on_screen(pilot, SettingsScreen)


async def test_a_deleted_record_comes_back_from_a_backup_chosen_in_settings(
    vault_home: Path,
) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await _settings(pilot)
        await pilot.press("o")  # nothing to restore yet: said so, nothing opens
        await pilot.pause(0.1)
        assert isinstance(app.screen, SettingsScreen)
        await pilot.press("b")
        await on_screen(pilot, BackupScreen)
        await pilot.press("enter")
        await on_screen(pilot, SettingsScreen)
        for _ in range(100):
            if "2 records" in _backups(app.screen):
                break
            await pilot.pause(0.05)
        vault = app.vault
        assert vault is not None
        vault.delete(vault.find("GitHub"))
        assert [s.title for s in vault.summaries()] == ["Door codes"]

        await pilot.press("o", "enter")
        await on_screen(pilot, RestoreScreen)
        await typed(pilot, "not the password")
        await pilot.press("enter")
        for _ in range(100):
            if "wrong password" in _text(app.screen, "#message"):
                break
            await pilot.pause(0.05)
        assert "wrong password for this backup" in _text(app.screen, "#message")
        await typed(pilot, PW)
        await pilot.press("enter")
        await on_screen(pilot, SettingsScreen)
        assert sorted(s.title for s in vault.summaries()) == ["Door codes", "GitHub"]


async def test_file_sizes_are_saved_and_used(vault_home: Path) -> None:
    """f and m in Settings: which files come down with every sync, the largest one allowed; a
    bad value is refused; what is saved is what the sync and `attach add` use."""
    from sync.blobsync import auto_bytes
    from vault.attachstore import max_bytes

    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await _settings(pilot)
        overview = _lines(app.screen, "#overview")
        assert "download up to 16 MiB with every sync" in overview
        assert "at most 256 MiB each" in overview
        for key, value in (("f", "0"), ("m", "64")):
            await pilot.press(key)
            await on_screen(pilot, NumberScreen)
            await pilot.press("ctrl+a", "ctrl+k")
            await typed(pilot, value)
            await pilot.press("enter")
            await on_screen(pilot, SettingsScreen)
        await pilot.press("m")
        await on_screen(pilot, NumberScreen)
        await pilot.press("ctrl+a", "ctrl+k")
        await typed(pilot, "70000")
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, NumberScreen)  # refused, nothing saved
        assert "out of range" in str(app.screen.query_one("#message").render())
        await pilot.press("escape")
        await on_screen(pilot, SettingsScreen)
        overview = _lines(app.screen, "#overview")
        assert "download every one when first saved or opened" in overview
        assert "at most 64 MiB each" in overview
    v = Vault.open(vault_home)
    v.unlock(PW)
    assert auto_bytes(v) == 0 and max_bytes(v) == 64 * 2**20
    v.close()
