"""A record's files in the app (issue 22), by keys only: the record view lists them, f opens the
files screen, a adds one from a typed path, s saves the chosen one to a typed path byte-exact,
d + y removes it."""

from __future__ import annotations

import os
from pathlib import Path

from pilotkit import on_screen, one_login_home, typed, unlock, until

from tui.app import StrongroomApp
from tui.screens.files import FilesScreen, PathPrompt
from tui.screens.records import ConfirmScreen, RecordDetailScreen
from vault import attachstore
from vault.vault import Vault

PW = "files app password"


async def _erase(pilot: object, n: int) -> None:
    for _ in range(n):
        await pilot.press("backspace")  # type: ignore[attr-defined]


async def test_add_save_and_remove_a_file_by_keys(tmp_path: Path) -> None:
    home = one_login_home(tmp_path / "h", PW)
    src = tmp_path / "recovery-codes.pdf"
    data = os.urandom(300_000)
    src.write_bytes(data)
    out = tmp_path / "saved.pdf"
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, PW)
        await until(pilot, lambda: app.screen.query_one("#records").rows, what="rows")
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        await pilot.press("f")
        await on_screen(pilot, FilesScreen)
        assert "No files yet" in str(app.screen.query_one("#files-status").render())
        await pilot.press("a")
        await on_screen(pilot, PathPrompt)
        await _erase(pilot, 2)  # the offered "~/"
        await typed(pilot, str(src))
        await pilot.press("enter")
        await on_screen(pilot, FilesScreen)
        screen = app.screen
        await until(pilot, lambda: len(screen.files) == 1, seconds=20, what="the added file")
        assert "recovery-codes.pdf" in str(screen.query_one("#files").get_option_at_index(0).prompt)
        await pilot.press("s")
        await on_screen(pilot, PathPrompt)
        field = app.screen.query_one("#path")
        await _erase(pilot, len(field.value))
        await typed(pilot, str(out))
        await pilot.press("enter")
        await until(pilot, out.exists, seconds=20, what="the saved file")
        assert out.read_bytes() == data and out.stat().st_mode & 0o777 == 0o600
        await pilot.press("escape")
        await on_screen(pilot, RecordDetailScreen)
        shown = str(app.screen.query_one("#detail").render())
        assert "Files" in shown and "recovery-codes.pdf" in shown and "300,000 bytes" in shown
        await pilot.press("f")
        await on_screen(pilot, FilesScreen)
        await pilot.press("d")
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await on_screen(pilot, FilesScreen)
        await until(pilot, lambda: app.screen.files == [], what="the file removed")
    v = Vault.open(home)
    v.unlock(PW)
    assert attachstore.listed(v, v.find("GitHub")) == ()
    v.close()
