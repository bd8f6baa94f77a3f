"""The app's history and trash (issue 22), by keys only: h in a record shows its versions newest
first with secrets masked until r, s + y restores one as a new edit; d in a record moves it to the
trash, d in the list shows the trash as a filter of the list (deleted when, searchable), Enter + y
brings a record back with its history and files, E + y empties it, d, x or Esc go back to the
records. Snapshots of the history at 80×24 and 60×18, of the trash filter at 80×24, 60×18 and
160×48."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pilotkit import on_screen, typed, unlock, until
from textual.command import CommandPalette
from textual.widgets._footer import FooterKey

from tui.app import StrongroomApp
from tui.screens.history import HistoryScreen, VersionList
from tui.screens.records import (
    ConfirmScreen,
    RecordDetailScreen,
    RecordListScreen,
    trash_note,
)
from tui.widgets.record_list import RecordList
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


def titles(app: StrongroomApp) -> list[str]:
    return [r.title for r in app.screen.query_one(RecordList).rows]


def shown(app: StrongroomApp, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def row_text(app: StrongroomApp, y: int) -> str:
    """The list's row `y` as drawn (its columns)."""
    return app.screen.query_one(RecordList).render_line(y).text


def footer(app: StrongroomApp) -> list[str]:
    return [k.description for k in app.screen.query(FooterKey)]


def told(app: StrongroomApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def test_delete_then_d_shows_it_in_the_trash_filter_and_enter_y_restores_it(
    tmp_path: Path,
) -> None:
    """Deleted in the record view, GitHub is in the trash filter with when it was deleted (the
    last deleted first); Enter + y brings it back with its history and its file."""
    from vault import attachstore

    home = _home(tmp_path / "h")
    scan = tmp_path / "codes.pdf"
    scan.write_bytes(b"%PDF recovery codes")
    v = _vault(home)
    attachstore.add(v, "0000000000000001", scan)
    versions = len(v.history("0000000000000001"))
    v.close()
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, PW)
        await until(pilot, lambda: titles(app) == ["GitHub"], what="GitHub only")
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        await pilot.press("d")
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await on_screen(pilot, RecordListScreen)
        assert "restore it from the trash filter" in told(app)
        await until(pilot, lambda: titles(app) == [], what="an empty list")
        await pilot.press("d")
        await until(pilot, lambda: titles(app) == ["GitHub", "Old bank"], what="the trash")
        assert isinstance(app.screen, RecordListScreen)  # the same list, filtered
        assert shown(app, "#counts").strip() == "Trash — 2 records"
        assert app.screen.filters.describe() == "trash"
        assert "Deleted" in app.screen.query_one("#records-header").render_line(0).text
        assert "just now" in row_text(app, 0) and "17 Nov 2023" in row_text(app, 1)
        note = shown(app, "#trash-note")
        assert "Enter or r restores the chosen record with its history and files" in note
        assert "E purges them all now" in note
        keys = footer(app)
        assert {"Restore", "Empty", "Records"} <= set(keys) and "New" not in keys
        await pilot.press("enter")
        await on_screen(pilot, ConfirmScreen)
        assert "Restore “GitHub” from the trash?" in app.screen.question
        await pilot.press("y")
        await on_screen(pilot, RecordListScreen)
        await until(pilot, lambda: titles(app) == ["Old bank"], what="restored")
        assert "“GitHub” is back in the list." in told(app)
        await pilot.press("d")
        await until(pilot, lambda: titles(app) == ["GitHub"], what="back in the list")
        assert "Trash" not in shown(app, "#counts")
        assert not app.screen.query_one("#trash-note").display
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        detail = shown(app, "#detail")
        assert "codes.pdf" in detail and "In the trash" not in detail
        await pilot.press("h")
        await on_screen(pilot, HistoryScreen)
        assert len(app.screen.query_one(VersionList).rows) == versions + 2
    v = _vault(home)
    changes = [c for s in v.history("0000000000000001") for c in s.changes]
    assert changes[-2:] == ["moved to the trash", "restored from the trash"]
    (att,) = attachstore.listed(v, "0000000000000001")
    assert att.name == "codes.pdf" and attachstore.present(v, att)
    v.close()


async def test_r_restores_too_and_n_keeps_it_in_the_trash(tmp_path: Path) -> None:
    home = _home(tmp_path / "h")
    app = StrongroomApp(home=home)
    async with app.run_test(size=(60, 18)) as pilot:
        await unlock(pilot, PW)
        await until(pilot, lambda: titles(app) == ["GitHub"], what="the list")
        await pilot.press("d")
        await until(pilot, lambda: titles(app) == ["Old bank"], what="the trash")
        await pilot.press("r")
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("n")
        await on_screen(pilot, RecordListScreen)
        await pilot.pause(0.2)
        assert titles(app) == ["Old bank"]
        await pilot.press("r")
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await on_screen(pilot, RecordListScreen)
        await until(pilot, lambda: titles(app) == [], what="an empty trash")
        assert shown(app, "#empty").startswith("The trash is empty.")
        await pilot.press("escape")  # nothing searched: back to the records
        await until(pilot, lambda: titles(app) == ["GitHub", "Old bank"], what="both back")
    v = _vault(home)
    assert v.trashed() == []
    v.close()


async def test_capital_e_in_the_trash_purges_everything_after_a_yes(tmp_path: Path) -> None:
    """E + n keeps the trash; E + y purges it (a tombstone that syncs), the list unchanged."""
    home = _home(tmp_path / "h")
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, PW)
        await until(pilot, lambda: titles(app) == ["GitHub"], what="the list")
        await pilot.press("E")  # not the trash: nothing to purge from here
        await pilot.pause(0.2)
        assert isinstance(app.screen, RecordListScreen)
        await pilot.press("d")
        await until(pilot, lambda: titles(app) == ["Old bank"], what="the trash")
        await pilot.press("E")
        await on_screen(pilot, ConfirmScreen)
        assert "Purge the record in the trash on every device?" in app.screen.question
        await pilot.press("n")
        await on_screen(pilot, RecordListScreen)
        await pilot.pause(0.2)
        assert titles(app) == ["Old bank"]
        await pilot.press("E")
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await on_screen(pilot, RecordListScreen)
        await until(pilot, lambda: titles(app) == [], what="an empty trash")
        assert "Purged 1 record from the trash, on every device." in told(app)
        assert shown(app, "#counts").strip() == "Trash — 0 records"
        assert shown(app, "#empty") == "The trash is empty. d shows the records."
        assert "until the trash is emptied" in shown(app, "#trash-note")
        await pilot.press("x")  # clear filters: the records
        await until(pilot, lambda: titles(app) == ["GitHub"], what="the records")
    v = _vault(home)
    assert v.trashed() == [] and v.store.versions("0000000000000002")[0].deleted
    assert v.find("GitHub") == "0000000000000001"
    v.close()


async def test_search_sort_and_the_way_back_in_the_trash_filter(tmp_path: Path) -> None:
    """/ searches the trash only; o sorts it; x, d, Esc and the palette go back to the records,
    and the palette shows the trash; n there says why it adds nothing."""
    from vault.records import new_record

    home = _home(tmp_path / "h")
    v = _vault(home)
    forum = v.add(new_record("login", "Old forum", {"username": "ann_e", "password": "pw"}))
    v.trash(forum.id)
    v.close()
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, PW)
        await until(pilot, lambda: titles(app) == ["GitHub"], what="the list")
        await pilot.press("d")
        await until(pilot, lambda: titles(app) == ["Old forum", "Old bank"], what="the trash")
        await pilot.press("slash")
        await typed(pilot, "for")
        await until(pilot, lambda: titles(app) == ["Old forum"], what="the search in the trash")
        assert shown(app, "#counts").strip() == "Trash — 1 of 2 records"
        await typed(pilot, "zz")
        await until(pilot, lambda: titles(app) == [], what="no match")
        assert shown(app, "#empty") == (
            "No records in the trash match “forzz”. Esc clears the search · d shows the records."
        )
        await pilot.press("escape")  # clears the search, stays in the trash
        await until(pilot, lambda: titles(app) == ["Old forum", "Old bank"], what="all again")
        await pilot.press("slash")
        await typed(pilot, "git")  # GitHub is no match here: it is not in the trash
        await until(pilot, lambda: "0 of 2" in shown(app, "#counts"), what="no match")
        await pilot.press("escape", "o")
        await until(pilot, lambda: titles(app) == ["Old bank", "Old forum"], what="by title")
        assert shown(app, "#counts").strip() == "Trash — 2 records · by title"
        await pilot.press("n")
        await pilot.pause(0.1)
        assert "The trash holds deleted records: d shows the records, where n adds one." in told(
            app
        )
        await pilot.press("x")
        await until(pilot, lambda: titles(app) == ["GitHub"], what="x: the records")
        await pilot.press("d", "d")
        await until(pilot, lambda: titles(app) == ["GitHub"], what="d twice: the records")
        await pilot.press("d", "escape")
        await until(pilot, lambda: titles(app) == ["GitHub"], what="Esc: the records")
        await pilot.press("ctrl+p")
        await on_screen(pilot, CommandPalette)
        await typed(pilot, "Show the trash")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: titles(app) == ["Old forum", "Old bank"], what="the palette")
        await pilot.press("ctrl+p")
        await on_screen(pilot, CommandPalette)
        await typed(pilot, "Show the records")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: titles(app) == ["GitHub"], what="the records again")


def test_the_trash_note_says_how_long_records_stay() -> None:
    assert "purged 30 days after deletion, on every device" in trash_note(2, 30)
    assert trash_note(0, 1) == "Deleted records are purged 1 day after deletion, on every device."
    assert "until the trash is emptied" in trash_note(0, 0)


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


@pytest.mark.parametrize("size", [(80, 24), (60, 18), (160, 48)], ids=["80x24", "60x18", "160x48"])
def test_trash_filter_snapshot(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    """Two records in the trash, the last deleted first; at 160×48 the chosen one beside."""
    home = _home(tmp_path / "h")
    v = _vault(home)
    v.add(
        Record(
            "0000000000000003",
            "credit-card",
            "Old Visa",
            (Field("number", FieldKind.NUMBER, "4111 1111 1111 1111"),),
            created=T0,
            modified=T0 + 5 * 86400,
            trashed=T0 + 5 * 86400,
        )
    )
    v.close()

    async def run(pilot: Any) -> None:
        await unlock(pilot, PW)
        await until(pilot, lambda: pilot.app.screen.query_one("#records").rows, what="rows")
        await pilot.press("d")
        await until(pilot, lambda: len(titles(pilot.app)) == 2, what="the trash")
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
