"""The app sees records changed outside it (tui/store_watch.py): a real `strongroom` CLI process
on the same home adds, edits and deletes while the app is unlocked, and the list, an open
record and an open edit form follow without a key pressed. The app's own writes do not make
it refresh over and over."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from clikit import cli_env, run_cli
from pilotkit import keys_of, on_screen, typed, unlock, until

import tui.app
from tui.app import StrongroomApp
from tui.screens.records import EditRecordScreen, RecordDetailScreen, RecordListScreen
from tui.widgets.record_list import RecordList
from vault.records import new_record
from vault.vault import Vault

PW = "changes elsewhere password"
SIZE = (80, 24)


class CountingApp(StrongroomApp):
    """The app, counting its ticks and the refreshes the store watch asks for."""

    CSS_PATH = Path(tui.app.__file__).with_name("app.tcss")  # relative paths are the module's
    ticks = 0
    refreshes = 0

    def _tick(self) -> None:
        self.ticks += 1
        super()._tick()

    def records_changed(self) -> None:
        self.refreshes += 1
        super().records_changed()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    v = Vault.create(home, "ann@example.com", PW)
    v.add(new_record("login", "Amazon", {"username": "ann", "password": "amazon-pw"}))
    v.close()
    return home


async def cli(home: Path, *args: str) -> None:
    """`strongroom ARGS` in its own process, off the app's event loop (which keeps running)."""
    done = await asyncio.to_thread(run_cli, cli_env(home, PW), *args)
    assert done.returncode == 0, done.stderr


def rows(app: StrongroomApp) -> list[tuple[str, str | None]]:
    """(title, username) of the record list's rows, also while another screen is on top."""
    (screen,) = [s for s in app.screen_stack if isinstance(s, RecordListScreen)]
    return [(s.title, s.username) for s in screen.query_one(RecordList).rows]


def titles(app: StrongroomApp) -> list[str]:
    return [title for title, _ in rows(app)]


def counts(app: StrongroomApp) -> str:
    """The list's header line: "1 of 1 record", "Trash — 1 record"."""
    (screen,) = [s for s in app.screen_stack if isinstance(s, RecordListScreen)]
    return str(screen.query_one("#counts").render())


async def test_the_list_follows_the_cli_adding_editing_and_deleting(home: Path) -> None:
    app = StrongroomApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await until(pilot, lambda: titles(app) == ["Amazon"], 20, "the list")

        await cli(home, "add", "login", "--title", "GitHub", "--field", "username=octo")
        await until(pilot, lambda: titles(app) == ["Amazon", "GitHub"], 30, "the added record")

        await cli(home, "edit", "GitHub", "--title", "GitHub (work)")
        await until(pilot, lambda: titles(app) == ["Amazon", "GitHub (work)"], 30, "the edit")

        await cli(home, "rm", "GitHub (work)")
        await until(pilot, lambda: titles(app) == ["Amazon"], 30, "the record gone")
        assert isinstance(app.screen, RecordListScreen)


async def test_the_trash_filter_shows_what_the_cli_deletes_and_restores(home: Path) -> None:
    """The list's trash filter follows the CLI: a record it deletes appears there, one it
    restores leaves it; the note says how long deleted records stay (30 days by default)."""
    app = StrongroomApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await until(pilot, lambda: titles(app) == ["Amazon"], 20, "the list")
        await pilot.press("d")
        await until(pilot, lambda: "Trash — 0 records" in counts(app), 10, "the trash")
        assert titles(app) == []
        assert "The trash is empty." in str(app.screen.query_one("#empty").render())
        note = str(app.screen.query_one("#trash-note").render())
        assert "purged 30 days after deletion, on every device" in note
        await cli(home, "rm", "Amazon")
        await until(pilot, lambda: titles(app) == ["Amazon"], 30, "the deleted record")
        assert "Trash — 1 record" in counts(app)
        await cli(home, "trash", "restore", "Amazon")
        await until(pilot, lambda: titles(app) == [], 30, "the restored record gone")
        await pilot.press("d")
        await until(pilot, lambda: titles(app) == ["Amazon"], 10, "back in the list")


async def test_an_open_record_shows_the_cli_edit(home: Path) -> None:
    app = StrongroomApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await until(pilot, lambda: titles(app) == ["Amazon"], 20, "the list")
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        view = app.screen

        def shown() -> str:
            return str(view.query_one("#detail").render())

        assert "ann" in shown()
        await cli(home, "edit", "Amazon", "--field", "username=ann.smith")
        await until(pilot, lambda: "ann.smith" in shown(), 30, "the new username in the view")
        assert app.screen is view


async def test_an_open_edit_form_keeps_what_was_typed(home: Path) -> None:
    """The CLI changes the username while the form is open with a new title typed: the form
    keeps the typed title, and saving keeps both changes (the form rebases on save)."""
    app = StrongroomApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await until(pilot, lambda: titles(app) == ["Amazon"], 20, "the list")
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        await pilot.press("e")
        await on_screen(pilot, EditRecordScreen)
        form = app.screen
        await pilot.press("end")
        await typed(pilot, " shop")
        await cli(home, "edit", "Amazon", "--field", "username=ann.smith")
        # the list under the form has the CLI's edit: the app has seen it
        await until(
            pilot,
            lambda: rows(app) == [("Amazon", "ann.smith")],
            30,
            "the list under the form refreshed",
        )
        assert app.screen is form
        assert form.query_one("#title").value == "Amazon shop"
        await pilot.press("ctrl+s")
        await on_screen(pilot, RecordDetailScreen)
        assert app.vault is not None
        (row,) = app.vault.summaries()
        assert (row.title, row.username) == ("Amazon shop", "ann.smith")


async def test_own_writes_do_not_refresh_over_and_over(home: Path) -> None:
    """Edits made in the app (its own connection) and the refresh they cause (which rewrites
    the summary index on the list's connection) end in a quiet store: at most one refresh,
    then none over the following ticks."""
    app = CountingApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await until(pilot, lambda: titles(app) == ["Amazon"], 20, "the list")
        await pilot.press("enter", "e")
        await on_screen(pilot, EditRecordScreen)
        await pilot.press("end", *keys_of(" 2"), "ctrl+s")
        await on_screen(pilot, RecordDetailScreen)
        await pilot.press("escape")
        await until(pilot, lambda: titles(app) == ["Amazon 2"], 20, "the saved title listed")
        start = app.ticks
        await until(pilot, lambda: app.ticks >= start + 2, 20, "two ticks")
        settled, refreshes = app.ticks, app.refreshes
        assert refreshes <= 1
        await until(pilot, lambda: app.ticks >= settled + 4, 20, "four more ticks")
        assert app.refreshes == refreshes  # quiet: no refresh without a change
