"""Sync inside the app, driven with keys: the Sync screen, live folder updates from another
device, the manual sync key, Wi-Fi peers on loopback, and lock stopping background sync.

The other device is a second real Vault home of the same account writing the real folder
(real watchdog events) or a real WifiPeer bound to 127.0.0.1 only (zeroconf timings shortened
here only, as in tests/wifi/).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pilotkit import on_screen, typed, unlock, until

from sync.folder import FolderSync
from sync.method import config, configure
from tui.app import StrongroomApp
from tui.screens.account import LockScreen
from tui.screens.records import RecordListScreen
from tui.screens.sync import SyncScreen
from tui.widgets.record_list import RecordList
from vault.errors import WrongPasswordError
from vault.records import Field, Record, new_record
from vault.templates import FieldKind
from vault.vault import Vault

PW = "tui sync password"
SIZE = (100, 30)
LOOPBACK = ["127.0.0.1"]


@pytest.fixture
def fast_mdns(monkeypatch: pytest.MonkeyPatch) -> None:
    import zeroconf._core as core

    monkeypatch.setattr(core, "_CHECK_TIME", 10)
    monkeypatch.setattr(core, "_REGISTER_TIME", 10)
    monkeypatch.setattr(core, "_UNREGISTER_TIME", 10)


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[tuple[Path, Vault]]:
    """This device's home (one record, locked on disk) and another device of the account, open."""
    home = tmp_path / "home"
    a = Vault.create(home, "ann@example.com", PW)
    a.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-secret"}))
    other = Vault.adopt(tmp_path / "laptop", a.slot, a.keys, [])
    a.close()
    yield home, other
    other.close()


def _titles(app: StrongroomApp) -> list[str]:
    screen = next(s for s in app.screen_stack if isinstance(s, RecordListScreen))
    return [r.title for r in screen.query_one(RecordList).rows]


def _notes(app: StrongroomApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def _screen_text(app: StrongroomApp, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def _watch_threads() -> list[threading.Thread]:
    return [
        t for t in threading.enumerate() if t.name == "strongroom-folder-watch" and t.is_alive()
    ]


def _write_from(other: Vault, folder: Path, title: str) -> None:
    """The other device adds a record and syncs through the folder (its own atomic write)."""
    other.add(new_record("note", title, notes="written elsewhere"))
    FolderSync(other, folder).sync_now()


async def test_folder_chosen_in_the_screen_then_another_devices_record_appears_live(
    devices: tuple[Path, Vault], tmp_path: Path
) -> None:
    home, other = devices
    folder = tmp_path / "Dropbox"
    folder.mkdir()
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, SyncScreen), what="the Sync screen")
        assert "None" in _screen_text(app, "#sync-status")
        await pilot.press("f")
        await typed(pilot, str(folder))
        await pilot.press("enter")
        assert "Syncing through" in _screen_text(app, "#message")
        data = folder / other.slot.account_id / "data.mssb"
        await until(pilot, data.exists, what="this device's first write of data.mssb")
        await until(
            pilot,
            lambda: (
                "Folder" in _screen_text(app, "#sync-status")
                and "never" not in _screen_text(app, "#sync-status")
            ),
            what="the last sync time",
        )
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))

        await asyncio.to_thread(_write_from, other, folder, "From the laptop")
        took = await until(
            pilot,
            lambda: "From the laptop" in _titles(app),
            seconds=5.0,
            what="the other device's record in the list",
        )
        assert _titles(app) == ["From the laptop", "GitHub"]
        print(f"another device's record listed {took:.2f} s after its write")
        # and this device's records reached the other device through the same file
        FolderSync(other, folder).sync_now()
        assert sorted(s.title for s in other.summaries()) == ["From the laptop", "GitHub"]


async def test_bad_folder_path_is_refused_with_a_clear_message(
    devices: tuple[Path, Vault], tmp_path: Path
) -> None:
    home, _ = devices
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, SyncScreen))
        cases = [
            (str(tmp_path / "no" / "such" / "folder"), "does not exist"),
            (str(a_file), "is a file, not a folder"),
            ("Dropbox/Strongroom", "full path"),
            ("", "Type the sync folder's path"),
        ]
        await pilot.press("f")
        for text, expected in cases:  # the cursor stays in the field to correct it
            await pilot.press("ctrl+a", "ctrl+k")
            await typed(pilot, text)
            await pilot.press("enter")
            await pilot.pause(0.05)
            assert expected in _screen_text(app, "#message"), text
        await pilot.press("escape", "w")
        await typed(pilot, "my-laptop")
        await pilot.press("enter")
        assert "is not an IP address" in _screen_text(app, "#message")
        await pilot.press("escape", "c")
        await typed(pilot, "sync.example.com")
        await pilot.press("enter")
        assert "account server's address" in _screen_text(app, "#message")
        assert config(app.vault)["method"] == "none"  # nothing was changed
        assert not app.sync_runtime.running


async def test_manual_sync_key_reports_the_outcome_and_a_missing_folder_clearly(
    devices: tuple[Path, Vault], tmp_path: Path
) -> None:
    home, other = devices
    folder = tmp_path / "Dropbox"
    folder.mkdir()
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await pilot.press("ctrl+r")
        await until(
            pilot,
            lambda: any("syncs with nothing" in n for n in _notes(app)),
            what="the no-method hint",
        )
        await pilot.press("y", "f")
        await typed(pilot, str(folder))
        await pilot.press("enter", "escape")
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
        await pilot.press("ctrl+r")
        await until(
            pilot,
            lambda: any(n.startswith("Synced:") for n in _notes(app)),
            what="the sync outcome",
        )
        assert (folder / other.slot.account_id / "data.mssb").exists()

        folder.rename(tmp_path / "Dropbox-unplugged")  # the share goes away
        await pilot.press("ctrl+r")
        await until(
            pilot,
            lambda: any("Sync failed" in n and "is missing" in n for n in _notes(app)),
            what="a clear error for the missing folder",
        )
        assert isinstance(app.screen, RecordListScreen) and _titles(app) == [
            "GitHub"
        ]  # nothing lost


async def test_a_missing_folder_is_said_once_and_syncing_resumes_when_it_is_back(
    devices: tuple[Path, Vault], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtime import runners

    monkeypatch.setattr(runners, "FOLDER_RETRY", 0.3)  # 5 s in the app
    home, other = devices
    folder = tmp_path / "Dropbox"
    folder.mkdir()
    _write_from(other, folder, "Waiting in the share")
    setup = Vault.open(home)
    setup.unlock(PW)
    configure(setup, "folder", folder=str(folder))
    setup.close()
    folder.rename(tmp_path / "unmounted")
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await until(
            pilot,
            lambda: any("is missing" in n for n in _notes(app)),
            what="the missing folder said",
        )
        await pilot.pause(1.0)
        assert sum("is missing" in n for n in _notes(app)) == 1  # said once, not at every retry
        assert not folder.exists()  # not created behind the user's back
        (tmp_path / "unmounted").rename(folder)  # the share is mounted
        await until(
            pilot, lambda: "Waiting in the share" in _titles(app), seconds=5.0, what="the merge"
        )
        await until(
            pilot, lambda: any("works again" in n for n in _notes(app)), what="the all-clear"
        )


async def test_lock_stops_the_watcher_and_unlock_restarts_it(
    devices: tuple[Path, Vault], tmp_path: Path
) -> None:
    home, other = devices
    folder = tmp_path / "Dropbox"
    folder.mkdir()
    setup = Vault.open(home)
    setup.unlock(PW)
    configure(setup, "folder", folder=str(folder))
    setup.close()
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await until(pilot, lambda: bool(_watch_threads()), what="the folder watcher")
        await until(pilot, (folder / other.slot.account_id / "data.mssb").exists)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, LockScreen))
        await until(pilot, lambda: not _watch_threads(), seconds=5.0, what="the watcher to stop")
        assert not app.sync_runtime.running

        await asyncio.to_thread(_write_from, other, folder, "Written while locked")
        await pilot.pause(1.5)  # a running watcher merges within ~1 s
        probe = Vault.open(home)
        try:
            assert probe.store.count() == 1  # nothing was merged while locked
        finally:
            probe.close()

        await typed(pilot, PW)
        await pilot.press("enter")
        await until(
            pilot,
            lambda: (
                "Written while locked"
                in (_titles(app) if isinstance(app.screen, RecordListScreen) else [])
            ),
            seconds=5.0,
            what="the merge after unlock",
        )


async def test_wifi_peer_is_listed_and_synced(devices: tuple[Path, Vault], fast_mdns: None) -> None:
    from sync.wifi import WifiPeer

    home, other = devices
    other.add(new_record("note", "From the phone"))
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot, WifiPeer(other, LOOPBACK) as phone:
        await unlock(pilot, PW)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, SyncScreen))
        await pilot.press("w")
        await typed(pilot, "127.0.0.1")
        await pilot.press("enter")
        short = phone.name.split(".")[0]
        await until(
            pilot,
            lambda: (
                short[:24] in _screen_text(app, "#peers")
                and "last sync never" not in _screen_text(app, "#peers")
            ),
            seconds=10.0,
            what="the phone listed with a last sync time",
        )
        assert "reachable" in _screen_text(app, "#sync-status")
        assert sorted(s.title for s in other.summaries()) == ["From the phone", "GitHub"]
        await pilot.press("escape")
        await until(pilot, lambda: "From the phone" in _titles(app), seconds=5.0)
        await pilot.press("ctrl+l")
        await until(
            pilot,
            lambda: (
                not any(t.name == "strongroom-wifi" and t.is_alive() for t in threading.enumerate())
            ),
            seconds=5.0,
        )


async def test_password_changed_on_a_wifi_peer_is_asked_for_then_sync_goes_on(
    devices: tuple[Path, Vault], fast_mdns: None
) -> None:
    """The phone changed the password; its Wi-Fi peer refuses us and hands over the new key slot:
    the app asks for the new password, refuses a wrong one, then syncs with the phone again."""
    from sync.wifi import WifiPeer
    from tui.screens.sync import NewPasswordScreen

    home, other = devices
    setup = Vault.open(home)
    setup.unlock(PW)
    configure(setup, "wifi", interfaces=LOOPBACK)
    setup.close()
    other.change_password("the phone's new password")
    other.add(new_record("note", "After the change"))
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot, WifiPeer(other, LOOPBACK):
        await unlock(pilot, PW)
        await on_screen(pilot, NewPasswordScreen, seconds=15.0)  # found the phone, which refused us
        await typed(pilot, "not it at all")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: (
                "password" in _screen_text(app, "#message").lower()
                and "Checking" not in _screen_text(app, "#message")
            ),
            what="the wrong password refused",
        )
        assert isinstance(app.screen, NewPasswordScreen) and app.vault is not None
        await typed(pilot, "the phone's new password")
        await pilot.press("enter")
        await on_screen(pilot, RecordListScreen)
        await until(
            pilot,
            lambda: "After the change" in _titles(app),
            seconds=15.0,
            what="the phone's record",
        )
        assert app.vault.slot.epoch == other.slot.epoch
    again = Vault.open(home)  # this device now opens with the new password, and only with it
    with pytest.raises(WrongPasswordError):
        again.unlock(PW)
    again.unlock("the phone's new password")
    assert "After the change" in {s.title for s in again.summaries()}
    again.close()


async def test_password_changed_on_another_device_is_asked_for_then_sync_goes_on(
    devices: tuple[Path, Vault], tmp_path: Path
) -> None:
    from tui.screens.sync import NewPasswordScreen

    home, other = devices
    folder = tmp_path / "Dropbox"
    folder.mkdir()
    setup = Vault.open(home)
    setup.unlock(PW)
    configure(setup, "folder", folder=str(folder))
    setup.close()
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await until(pilot, (folder / other.slot.account_id / "data.mssb").exists)

        def change_elsewhere() -> None:
            FolderSync(other, folder).sync_now()
            other.change_password("the new password")
            _write_from(other, folder, "After the change")

        await asyncio.to_thread(change_elsewhere)
        await until(
            pilot,
            lambda: isinstance(app.screen, NewPasswordScreen),
            seconds=5.0,
            what="the question",
        )
        await typed(pilot, "not it at all")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: (
                "password" in _screen_text(app, "#message").lower()
                and "Checking" not in _screen_text(app, "#message")
            ),
            what="the wrong password refused",
        )
        assert isinstance(app.screen, NewPasswordScreen)
        await pilot.press("escape")  # not now: the list again, not asked again by the watcher
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
        await pilot.pause(1.5)
        assert isinstance(app.screen, RecordListScreen)
        await pilot.press("ctrl+r")  # asking to sync asks again
        await until(
            pilot,
            lambda: isinstance(app.screen, NewPasswordScreen),
            seconds=5.0,
            what="the question again",
        )
        await typed(pilot, "the new password")
        await pilot.press("enter")
        await until(
            pilot, lambda: isinstance(app.screen, RecordListScreen), what="the question answered"
        )
        await until(
            pilot, lambda: "After the change" in _titles(app), seconds=5.0, what="sync going on"
        )
        assert app.vault is not None and app.vault.slot.epoch == other.slot.epoch
    again = Vault.open(home)
    try:
        with pytest.raises(WrongPasswordError):
            again.unlock(PW)  # the old password no longer opens this device
        again.unlock("the new password")
    finally:
        again.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real account server on 127.0.0.1 (random port), SQLite."""
    from sync.server.runner import ServerThread
    from sync.server.service import ServerConfig

    with ServerThread(
        ServerConfig(database=str(tmp_path / "server.db"), outbox=tmp_path / "outbox")
    ) as srv:
        yield srv.url


async def test_cloud_chosen_in_the_screen_then_changes_sync_both_ways_automatically(
    devices: tuple[Path, Vault], server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtime import runners
    from sync import cloudlink
    from sync.method import sync_now
    from tui.screens.records import EditRecordScreen

    monkeypatch.setattr(runners, "AUTO_INTERVAL", 1.0)  # 60 s in the app
    monkeypatch.setattr(runners, "AUTO_DEBOUNCE", 0.5)
    home, other = devices
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await pilot.press("y", "c")
        await typed(pilot, server)
        await pilot.press("enter")
        await until(
            pilot,
            lambda: any("Cloud sync through" in n for n in _notes(app)),
            seconds=20.0,
            what="the account linked to the server",
        )
        assert "Cloud" in _screen_text(app, "#sync-status")
        # a new device signs in from the server and finds this device's record
        phone = await asyncio.to_thread(
            cloudlink.signin,
            tmp_path / "phone",
            server,
            "ann@example.com",
            PW,
            other.slot.kit,
            None,
        )
        assert [s.title for s in phone.summaries()] == ["GitHub"]

        # a record added here reaches the server without any sync key
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, EditRecordScreen))
        app.screen.query_one("#title").focus()
        await typed(pilot, "Added here")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))

        def phone_has(title: str) -> bool:
            sync_now(phone)
            return title in {s.title for s in phone.summaries()}

        start = time.monotonic()
        while not await asyncio.to_thread(phone_has, "Added here"):
            assert time.monotonic() - start < 10, "the local change never reached the server"
            await pilot.pause(0.2)
        # and the phone's record appears here on the interval
        phone.add(new_record("note", "From the phone"))
        await asyncio.to_thread(sync_now, phone)
        await until(
            pilot, lambda: "From the phone" in _titles(app), seconds=10.0, what="the phone's record"
        )
        phone.close()


T0 = 1_700_000_000.0


def test_sync_screen_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    """Method none, one record in conflict (edited on two devices before they synced)."""
    from dataclasses import replace

    home = tmp_path / "home"
    a = Vault.create(home, "ann@example.com", "snapshot password")
    rec = a.add(
        Record(
            "0000000000000001",
            "login",
            "GitHub",
            (Field("username", FieldKind.TEXT, "ann"),),
            created=T0,
            modified=T0,
        )
    )
    b = Vault.adopt(tmp_path / "b", a.slot, a.keys, a.store.all_versions())
    a.update(replace(rec, title="GitHub (work)"))
    time.sleep(
        0.02
    )  # the later edit wins (by clock); in the same millisecond, random device ids would decide
    b.update(replace(b.record(rec.id), title="GitHub (home)"))
    a.apply(b.store.all_versions())
    a.add(Record("0000000000000002", "note", "Door codes", (), created=T0, modified=T0))
    a.close()
    b.close()

    async def run(pilot: Any) -> None:
        await typed(pilot, "snapshot password")
        await pilot.press("enter")
        for _ in range(100):
            if isinstance(pilot.app.screen, RecordListScreen):
                break
            await pilot.pause(0.05)
        await pilot.press("y")
        for _ in range(100):  # under load the screen may take a while
            screen = pilot.app.screen
            if isinstance(screen, SyncScreen) and screen.query_one("#conflicts", RecordList).rows:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.3)

    assert snap_compare(StrongroomApp(home=home), run_before=run, terminal_size=SIZE)


async def test_saved_account_key_is_explained_then_turned_on_and_off(
    devices: tuple[Path, Vault], tmp_path: Path
) -> None:
    from sync import folderkey
    from tui.screens.records import ConfirmScreen

    home, other = devices
    folder = tmp_path / "Dropbox"
    folder.mkdir()
    key_file = folderkey.path_for(folder, other.slot.account_id)
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, SyncScreen), what="the Sync screen")
        await pilot.press("a")  # no folder yet: said, nothing asked
        assert "choose a folder first" in _screen_text(app, "#message")
        assert not isinstance(app.screen, ConfirmScreen)

        await pilot.press("f")
        await typed(pilot, str(folder))
        await pilot.press("enter")
        await until(
            pilot,
            lambda: "no: new devices need the Kit" in _screen_text(app, "#sync-status"),
            what="the saved-key line",
        )
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the explanation")
        assert "guess your password offline" in str(app.screen.query_one("Static").render())
        await pilot.press("n")  # declined: nothing written
        await until(pilot, lambda: isinstance(app.screen, SyncScreen))
        assert not key_file.exists()

        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, key_file.exists, what="account.key in the folder")
        assert "yes: new devices sign in" in _screen_text(app, "#sync-status")
        assert PW.encode() not in key_file.read_bytes()

        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: not key_file.exists(), what="account.key removed")
        assert "no: new devices need the Kit" in _screen_text(app, "#sync-status")


async def test_versions_refused_from_the_folder_are_shown_on_the_sync_screen(
    devices: tuple[Path, Vault], tmp_path: Path
) -> None:
    """A forged 'newer' version and a forged tombstone in the folder's file (sealed with the folder
    key, bytes inside that are no record of ours): the app keeps GitHub, and the Sync screen says
    how many versions from which source were refused and why."""
    import os

    from sync import mssb
    from vault.envelope import Envelope, vv_key
    from vault.intake import NOT_OURS

    home, other = devices
    folder = tmp_path / "Dropbox"
    folder.mkdir()
    setup = Vault.open(home)
    setup.unlock(PW)
    configure(setup, "folder", folder=str(folder))
    (good,) = setup.store.all_versions()
    setup.close()
    fakes = [
        Envelope(
            good.record_id,
            vv_key({**good.vv, "f0f0f0f0": n}),
            good.hlc + n,
            "f0f0f0f0",
            deleted,
            os.urandom(len(good.ciphertext)),
        )
        for n, deleted in ((1, False), (2, True))
    ]
    mssb.file_path(folder, other.slot.account_id).parent.mkdir()
    mssb.file_path(folder, other.slot.account_id).write_bytes(
        mssb.encode(mssb.header_for(other.slot, other.device, 5), other.keys, [good, *fakes])
    )
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, SyncScreen))
        await pilot.press("s")
        await until(
            pilot,
            lambda: "Refused" in _screen_text(app, "#sync-status"),
            seconds=5.0,
            what="the refused versions on the Sync screen",
        )
        text = " ".join(_screen_text(app, "#sync-status").split())
        assert "2 versions, not merged — nothing was lost" in text
        assert f"2 from folder: {NOT_OURS}"[:60] in text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
        assert _titles(app) == ["GitHub"]
        assert app.vault is not None
        assert app.vault.record(good.record_id).value("password") == "gh-secret"
