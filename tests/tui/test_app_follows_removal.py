"""The app follows a device removal made on another device with nothing typed (issue 16 Build 2):
its folder watcher takes the new keys, the app's own keys move with them, the list shows what was
written after the removal and a notification says what happened. Real folder, real watcher,
keys only."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pilotkit import unlock, until

from sync.folder import FolderSync
from sync.method import configure, remove_device
from tui.app import StrongroomApp
from tui.screens.records import RecordListScreen
from tui.widgets.record_list import RecordList
from vault import devices
from vault.records import new_record
from vault.vault import Vault

PW = "tui removal password"


def _titles(app: StrongroomApp) -> list[str]:
    screen = next(s for s in app.screen_stack if isinstance(s, RecordListScreen))
    return [r.title for r in screen.query_one(RecordList).rows]


async def test_the_app_follows_a_removal_made_elsewhere(tmp_path: Path) -> None:
    home, folder = tmp_path / "home", tmp_path / "Dropbox"
    folder.mkdir()
    me = Vault.create(home, "ann@example.com", PW)
    me.add(new_record("note", "Before"))
    r = Vault.adopt(tmp_path / "r", me.slot, me.keys, [])
    x = Vault.adopt(tmp_path / "x", me.slot, me.keys, [])
    for v in (me, r, x, me, r):
        configure(v, "folder", folder=str(folder))
        devices.touch(v, "folder")
        FolderSync(v, folder).sync_now()
    me.close()
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot, PW)
        await until(pilot, lambda: "Before" in _titles(app), what="the list")

        def removal_elsewhere() -> None:
            remove_device(r, x.device, PW)
            r.add(new_record("note", "After removal"))
            FolderSync(r, folder).sync_now()

        await asyncio.to_thread(removal_elsewhere)
        told: set[str] = set()

        def followed() -> bool:
            told.update(str(n.message) for n in app._notifications)
            return "After removal" in _titles(app)

        await until(pilot, followed, seconds=15.0, what="the new keys")
        assert "<decryption error>" not in _titles(app)
        assert isinstance(app.screen, RecordListScreen)  # nothing was asked
        assert app.vault is not None and app.vault.keys.vk == r.keys.vk
        assert any("took the new keys" in n for n in told), told
    r.close()
    x.close()
