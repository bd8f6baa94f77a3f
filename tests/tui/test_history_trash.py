"""The app's history and trash (issue 22), by keys only: h in a record shows its versions newest
first with secrets masked until r, s + y restores one as a new edit; d in a record moves it to the
trash, d in the list shows the trash, Enter + y brings it back with its history. Snapshots of both
views at 80×24 and 60×18."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pilotkit import on_screen, unlock, until

from tui.app import StrongroomApp
from tui.screens.history import HistoryScreen, TrashScreen, VersionList
from tui.screens.records import ConfirmScreen, RecordDetailScreen, RecordListScreen
from vault.records import Field, HistoryEntry, Record, Version, bare
from vault.templates import FieldKind
from vault.vault import Vault

PW = "history app password"
T0 = 1_700_000_000.0
S, T = FieldKind.SECRET, FieldKind.TEXT


def _home(path: Path) -> Path:
    """GitHub with three versions (the password changed twice, a note added), and Old bank in
    the trash; fixed times, so pictures are stable (retention by age off: they are years old)."""
    v = Vault.create(path, "ann@example.com", PW)
    # fixed times years ago: no age limit here, or the first edit would prune them all
    v.update_settings(history_days=0, trash_days=0)
    one = Record(
        "0000000000000001",
        "login",
        "GitHub",
        (Field("username", T, "ann"), Field("password", S, "first-pw")),
        created=T0,
        modified=T0,
    )
    two = replace(
        one, fields=(one.fields[0], Field("password", S, "second-pw")), modified=T0 + 86400
    )
    three = replace(two, fields=(one.fields[0], Field("password", S, "third-pw")), notes="2FA on")
    three = replace(
        three,
        modified=T0 + 2 * 86400,
        versions=(Version(T0, "aaaa1111", bare(one)), Version(T0 + 86400, "bbbb2222", bare(two))),
        history=(
            HistoryEntry(T0, (one.fields[1],), T0 + 86400),
            HistoryEntry(T0 + 86400, (two.fields[1],), T0 + 2 * 86400),
        ),
    )
    v.add(three)
    v.add(
        Record(
            "0000000000000002",
            "note",
            "Old bank",
            (),
            notes="closed account",
            created=T0,
            modified=T0 + 3 * 86400,
            trashed=T0 + 3 * 86400,
        )
    )
    v.close()
    return path


def _vault(home: Path) -> Vault:
    v = Vault.open(home)
    v.unlock(PW)
    return v


async def test_history_masks_secrets_and_restores_a_version_as_a_new_edit(tmp_path: Path) -> None:
    home = _home(tmp_path / "h")
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, PW)
        await until(pilot, lambda: app.screen.query_one("#records").rows, what="rows")
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        shown = str(app.screen.query_one("#detail").render())
        assert "Password history" in shown and "second-pw" not in shown
        assert "2 previous versions" in shown
        await pilot.press("h")
        await on_screen(pilot, HistoryScreen)
        screen = app.screen
        assert [r.id.partition(":")[0] for r in screen.query_one(VersionList).rows] == [
            "3",
            "2",
            "1",
        ]
        text = str(screen.query_one("#version").render())
        assert "third-pw" not in text and "••••••••" in text
        await pilot.press("r")
        assert "third-pw" in str(screen.query_one("#version").render())
        await pilot.press("r", "down", "down")  # hidden again; version 1
        text = str(screen.query_one("#version").render())
        assert "Version 1" in text and "first-pw" not in text
        await pilot.press("s")
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await on_screen(pilot, HistoryScreen)
        await until(pilot, lambda: len(screen.query_one(VersionList).rows) == 4, what="4 versions")
    v = _vault(home)
    rec = v.record("0000000000000001")
    assert rec.value("password") == "first-pw" and rec.notes == ""
    assert [s.record.value("password") for s in v.history(rec.id)] == [
        "first-pw",
        "second-pw",
        "third-pw",
        "first-pw",
    ]


async def test_history_shows_files_and_restoring_brings_a_removed_file_back(
    tmp_path: Path,
) -> None:
    """A file added then removed: the newest version says so, the one before lists the file, and
    s + y on it brings the file back (its bytes were kept on the device)."""
    from vault import attachstore

    home = _home(tmp_path / "h")
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF passport scan")
    v = _vault(home)
    attachstore.add(v, "0000000000000001", scan)
    attachstore.remove(v, "0000000000000001", "scan.pdf")
    v.close()
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, PW)
        await until(pilot, lambda: app.screen.query_one("#records").rows, what="rows")
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        await pilot.press("h")
        await on_screen(pilot, HistoryScreen)
        screen = app.screen
        rows = screen.query_one(VersionList).rows
        assert len(rows) == 5 and "file 'scan.pdf' removed" in str(rows[0])
        assert "files:" not in str(screen.query_one("#version").render())
        await pilot.press("down")
        assert "files: scan.pdf" in str(screen.query_one("#version").render())
        await pilot.press("s")
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await on_screen(pilot, HistoryScreen)
        await until(pilot, lambda: len(screen.query_one(VersionList).rows) == 6, what="6 versions")
    v = _vault(home)
    (att,) = attachstore.listed(v, "0000000000000001")
    assert att.name == "scan.pdf" and attachstore.present(v, att)
    v.close()


async def test_delete_moves_to_the_trash_and_the_trash_view_restores(tmp_path: Path) -> None:
    home = _home(tmp_path / "h")
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, PW)
        records = app.screen.query_one("#records")
        await until(
            pilot, lambda: [r.title for r in records.rows] == ["GitHub"], what="GitHub only"
        )
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        await pilot.press("d")
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await on_screen(pilot, RecordListScreen)
        await until(pilot, lambda: records.rows == [], what="an empty list")
        await pilot.press("d")
        await on_screen(pilot, TrashScreen)
        trash = app.screen.query_one("#trash")
        assert [r.title for r in trash.rows] == ["GitHub", "Old bank"]  # newest deletion first
        await pilot.press("enter")
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await on_screen(pilot, TrashScreen)
        await until(pilot, lambda: [r.title for r in trash.rows] == ["Old bank"], what="restored")
        await pilot.press("escape")
        await on_screen(pilot, RecordListScreen)
        await until(pilot, lambda: [r.title for r in records.rows] == ["GitHub"], what="back")
    v = _vault(home)
    changes = [c for s in v.history("0000000000000001") for c in s.changes]
    assert changes[-2:] == ["moved to the trash", "restored from the trash"]
    assert len(v.history("0000000000000001")) == 5  # its three versions came back with it
    v.close()


async def test_x_in_the_trash_purges_everything_after_a_yes(tmp_path: Path) -> None:
    """x + n keeps the trash; x + y purges it (a tombstone that syncs), the list unchanged."""
    home = _home(tmp_path / "h")
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, PW)
        await until(pilot, lambda: app.screen.query_one("#records").rows, what="rows")
        await pilot.press("d")
        await on_screen(pilot, TrashScreen)
        trash = app.screen.query_one("#trash")
        assert [r.title for r in trash.rows] == ["Old bank"]
        await pilot.press("x")
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("n")
        await on_screen(pilot, TrashScreen)
        assert [r.title for r in trash.rows] == ["Old bank"]
        await pilot.press("x")
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await on_screen(pilot, TrashScreen)
        await until(pilot, lambda: trash.rows == [], what="an empty trash")
        assert "The trash is empty." in str(app.screen.query_one("#trash-note").render())
    v = _vault(home)
    assert v.trashed() == [] and v.store.versions("0000000000000002")[0].deleted
    assert v.find("GitHub") == "0000000000000001"
    v.close()


@pytest.mark.parametrize("size", [(80, 24), (60, 18)], ids=["80x24", "60x18"])
def test_history_view_snapshot(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    home = _home(tmp_path / "h")

    async def run(pilot: Any) -> None:
        await unlock(pilot, PW)
        await until(pilot, lambda: pilot.app.screen.query_one("#records").rows, what="rows")
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        await pilot.press("h")
        await on_screen(pilot, HistoryScreen)
        await pilot.press("down")
        await pilot.pause(0.2)

    assert snap_compare(StrongroomApp(home=home), run_before=run, terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (60, 18)], ids=["80x24", "60x18"])
def test_trash_view_snapshot(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    home = _home(tmp_path / "h")

    async def run(pilot: Any) -> None:
        await unlock(pilot, PW)
        await until(pilot, lambda: pilot.app.screen.query_one("#records").rows, what="rows")
        await pilot.press("d")
        await on_screen(pilot, TrashScreen)
        await pilot.pause(0.2)

    assert snap_compare(StrongroomApp(home=home), run_before=run, terminal_size=size)


async def test_an_edit_here_and_a_delete_elsewhere_keeps_the_record_and_the_app_says_so(
    tmp_path: Path,
) -> None:
    """Background folder sync: GitHub edited here while another device moved it to the trash;
    after the sync it is still in the list, out of the trash, and a notification and the record
    view say so."""
    from sync.folder import FolderSync
    from sync.method import configure
    from vault.records import new_record

    folder = tmp_path / "Dropbox"
    folder.mkdir()
    a = Vault.create(tmp_path / "home", "ann@example.com", PW)
    rid = a.add(new_record("login", "GitHub", {"username": "ann", "password": "pw"})).id
    configure(a, "folder", folder=str(folder))
    FolderSync(a, folder).sync_now()
    b = Vault.adopt(tmp_path / "laptop", a.slot, a.keys, [])
    FolderSync(b, folder).sync_now()
    a.edit(rid, lambda r: replace(r, notes="edited here"))
    a.close()
    b.trash(rid)
    FolderSync(b, folder).sync_now()
    b.close()
    app = StrongroomApp(home=tmp_path / "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, PW)

        def told() -> bool:
            return any("Kept out of the trash" in str(n.message) for n in app._notifications)

        await until(pilot, told, seconds=15.0, what="the notification")
        records = app.screen.query_one("#records")
        await until(pilot, lambda: [r.title for r in records.rows] == ["GitHub"], what="listed")
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        assert "Kept out of the trash" in str(app.screen.query_one("#detail").render())
