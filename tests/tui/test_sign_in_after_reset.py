"""A device that met an account reset signs in again from the app, as `strongroom signin` does:
the lock screen offers it, a wrong password changes nothing, the new Kit links the device to the
new generation in place and what it held before stays kept and restorable."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from pilotkit import on_screen, typed, until
from test_sign_in import EMAIL, PW, fill_and_submit

from sync.cloudlink import kept_before_reset
from sync.folder import FolderSync
from sync.mssb import FolderAccountResetError
from tui.app import StrongroomApp
from tui.screens.account import LockScreen, SignInScreen
from tui.screens.records import RecordListScreen
from tui.widgets.record_list import RecordList
from vault import keys as keymod
from vault.backup import read_backup
from vault.keys import KeySlot
from vault.records import new_record
from vault.vault import Vault

NEW_PW = "the password after the reset"


def _reset_elsewhere(home: Path, folder: Path, account: str) -> str:
    """Generation 2 of the account (new keys, new password) written to the folder by another
    device, as an account reset leaves it; returns its Kit's typed code."""
    kit, wvk, _ = keymod.wrap(
        NEW_PW, secrets.token_bytes(16), secrets.token_bytes(32), account, 2, 1
    )
    keys = keymod.open_vault_key(kit, *keymod.open_account_key(kit, NEW_PW), wvk)
    other = Vault.adopt(home, KeySlot(EMAIL, kit, wvk, ""), keys, [])
    other.add(new_record("note", "After the reset"))
    FolderSync(other, folder).sync_now()
    other.close()
    return kit.to_typed_code()


@pytest.fixture
def met_reset(tmp_path: Path) -> tuple[Path, Path, str]:
    """This device (home), its sync folder and the new Kit's code, after it met the reset."""
    home, folder = tmp_path / "home", tmp_path / "Dropbox"
    folder.mkdir()
    mine = Vault.create(home, EMAIL, PW)
    mine.add(new_record("login", "Bank", {"password": "kept-safe"}))
    FolderSync(mine, folder).sync_now()
    code = _reset_elsewhere(tmp_path / "elsewhere", folder, mine.slot.account_id)
    with pytest.raises(FolderAccountResetError):
        FolderSync(mine, folder).sync_now()  # keeps the records as an encrypted backup
    mine.close()
    return home, folder, code


async def test_the_app_signs_in_again_after_a_reset(
    tmp_path: Path, met_reset: tuple[Path, Path, str]
) -> None:
    home, folder, code = met_reset
    app = StrongroomApp(home=home, kit_dir=tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await on_screen(pilot, LockScreen)
        assert "reset on another device" in str(app.screen.query_one("#reset-note").render())
        await pilot.press("tab")  # from the password field to "Sign in again"
        await pilot.press("enter")
        await on_screen(pilot, SignInScreen)
        fields = {"#password": "not the new one", "#kit": code, "#folder": str(folder)}
        msg, _ = await fill_and_submit(pilot, app, "folder", fields)
        assert "password" in msg.lower()
        assert not list((home / "backups").glob("replaced-*"))  # nothing changed yet
        msg, _ = await fill_and_submit(pilot, app, "folder", {**fields, "#password": NEW_PW})
        assert msg == ""
        assert isinstance(app.screen, RecordListScreen)
        lst = app.screen.query_one(RecordList)
        await until(pilot, lambda: [r.title for r in lst.rows] == ["After the reset"])
        assert app.vault is not None and app.vault.slot.generation == 2
        kept = kept_before_reset(app.vault)
        assert kept is not None and kept.suffix == ".srbk"
        _, _, envelopes = read_backup(kept, PW)  # what it held, under the password before
        assert {e.record_id for e in envelopes}
        await pilot.press("ctrl+l")  # the new store is the device's store now
        await on_screen(pilot, LockScreen)
        assert not app.screen.query("#reset-note")
        await typed(pilot, NEW_PW)
        await pilot.press("enter")
        await on_screen(pilot, RecordListScreen)
    assert list((home / "backups").glob("replaced-gen1-*.db"))
    assert Vault.open(home).slot.generation == 2


async def test_a_device_that_met_no_reset_is_not_offered_a_new_sign_in(tmp_path: Path) -> None:
    Vault.create(tmp_path / "home", EMAIL, PW).close()
    app = StrongroomApp(home=tmp_path / "home", kit_dir=tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await on_screen(pilot, LockScreen)
        assert not app.screen.query("#signin-again")
