"""Keys typed quickly are applied in order (tui/typeahead.py), on the real app by keys only.

Each test queues a whole flow's keys on the app at once (`burst`: no pause between keys, as a
fast typist or `tmux send-keys` delivers them) and then checks what was stored. Before the
gate, the keys after one that pushed a screen were dropped, letters after Tab went to the field
Tab left, and Tab right after typing a path moved on with the prefix.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pilotkit import burst, keys_of, on_screen, until

from sync.folder import FolderSync
from tui.app import StrongroomApp
from tui.screens.account import LockScreen, WelcomeScreen
from tui.screens.importer import ImportScreen
from tui.screens.records import EditRecordScreen, RecordDetailScreen, RecordListScreen
from vault.kitfile import render_png
from vault.records import new_record
from vault.vault import Vault

EMAIL = "ann@example.com"
PW = "Tangerine-Viaduct-47-Quill"  # strong enough for sign-up's floor
SIZE = (80, 24)
DATA = Path(__file__).resolve().parents[1] / "data" / "import"


def _titles(vault: Vault) -> list[str]:
    return sorted(s.title for s in vault.summaries())


@pytest.fixture
def three(tmp_path: Path) -> Path:
    """A locked home with three logins; the list shows Amazon first, GitHub last."""
    home = tmp_path / "home"
    v = Vault.create(home, EMAIL, PW)
    for title in ("Amazon", "Bank", "GitHub"):
        v.add(new_record("login", title, {"username": "ann", "password": f"{title}-pw"}))
    v.close()
    return home


async def test_sign_up_typed_in_one_burst(tmp_path: Path) -> None:
    """Welcome → u, the email, Tab, the password, Tab, it again, ctrl+s, and y for the Kit, all
    at once: the account gets that email and password, and the list opens."""
    home = tmp_path / "home"
    app = StrongroomApp(home, kit_dir=tmp_path / "kit")
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, WelcomeScreen)
        burst(pilot, "u", *keys_of(EMAIL), "tab", *keys_of(PW), "tab", *keys_of(PW), "ctrl+s", "y")
        await on_screen(pilot, RecordListScreen, 60)
        assert app.type_ahead.held == 0
    v = Vault.open(home)
    try:
        assert v.slot.email == EMAIL
        v.unlock(PW)  # the password went to the password fields, not the email
    finally:
        v.close()


async def test_unlock_search_open_and_edit_in_one_burst(three: Path) -> None:
    """The password, Enter, /git, Enter, Enter, e, End, -2, ctrl+s at once: unlocked, the
    search's first match (not the first row before it) opened, its title appended to (End
    moved the cursor; the text did not replace the title) and saved."""
    app = StrongroomApp(three)
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, LockScreen)
        burst(
            pilot,
            *keys_of(PW),
            "enter",
            "slash",
            *keys_of("git"),
            "enter",
            "enter",
            "e",
            "end",
            *keys_of("-2"),
            "ctrl+s",
        )

        def saved() -> bool:
            return app.vault is not None and "GitHub-2" in _titles(app.vault)

        await until(pilot, saved, 60, "the edited title saved")
        assert app.vault is not None
        assert _titles(app.vault) == ["Amazon", "Bank", "GitHub-2"]
        await until(pilot, lambda: isinstance(app.screen, RecordDetailScreen), 10, "the record")
        assert app.type_ahead.held == 0


async def test_a_failed_unlock_keeps_the_keys_typed_after_it(three: Path) -> None:
    """A wrong password, Enter, then the right one and Enter at once: the keys typed while the
    first try ran are not lost; they go to the password field and unlock."""
    app = StrongroomApp(three)
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, LockScreen)
        burst(pilot, *keys_of("not-it"), "enter", *keys_of(PW), "enter")
        await on_screen(pilot, RecordListScreen, 60)


async def test_edit_end_then_text_appends(three: Path) -> None:
    """From the record view, e, End and text at once: the form opens with the title focused and
    the text goes after it."""
    app = StrongroomApp(three)
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, LockScreen)
        burst(pilot, *keys_of(PW), "enter")
        await on_screen(pilot, RecordListScreen, 60)
        await until(pilot, lambda: app.screen.results_for is not None, 10, "the rows")
        burst(pilot, "enter", "e", "end", *keys_of(" (old)"))
        await until(pilot, lambda: isinstance(app.screen, EditRecordScreen), 10, "the form")
        form = app.screen
        await until(
            pilot,
            lambda: form.query_one("#title").value == "Amazon (old)",
            10,
            "the title with the text after it",
        )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A sync folder (Dropbox/) written by the account's first device, and its Kit as a PNG in
    Downloads/."""
    f = tmp_path / "Dropbox"
    f.mkdir()
    first = Vault.create(tmp_path / "first", EMAIL, PW)
    first.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-secret"}))
    FolderSync(first, f).sync_now()
    (tmp_path / "Downloads").mkdir()
    render_png(first.slot.kit, tmp_path / "Downloads" / "Strongroom-Kit.png")
    first.close()
    return f


async def test_sign_in_with_paths_completed_by_tab_in_one_burst(
    tmp_path: Path, folder: Path
) -> None:
    """i, the email, the password, a Kit path's first letters and Tab, Tab Tab to the folder,
    its first letters and Tab, ctrl+s, then /git Enter for the list, all at once: each Tab
    completes the path typed just before it, the sign-in succeeds and the search opens GitHub."""
    app = StrongroomApp(tmp_path / "home", kit_dir=tmp_path / "kit")
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, WelcomeScreen)
        burst(
            pilot,
            "i",
            *keys_of(EMAIL),
            "tab",
            *keys_of(PW),
            "tab",
            *keys_of(f"{tmp_path}/Downloads/Str"),
            "tab",  # completes …/Strongroom-Kit.png
            "tab",  # to the source
            "tab",  # to the folder
            *keys_of(f"{tmp_path}/Dro"),
            "tab",  # completes …/Dropbox/
            "ctrl+s",
            "slash",
            *keys_of("git"),
            "enter",
            "enter",
        )
        await on_screen(pilot, RecordDetailScreen, 60)
        assert app.vault is not None and _titles(app.vault) == ["GitHub"]


async def test_import_path_tab_enter_enter_ctrl_s_in_one_burst(
    three: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the list, i, a file's first letter, Tab, Enter (the path), Enter (the guessed format)
    and ctrl+s at once: ctrl+s waits for the preview and imports what it shows."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(DATA / "bitwarden.json", work / "bw.json")
    monkeypatch.chdir(work)
    app = StrongroomApp(three)
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, LockScreen)
        burst(pilot, *keys_of(PW), "enter", "i", "b", "tab", "enter", "enter", "ctrl+s")

        def imported() -> bool:
            return app.vault is not None and len(_titles(app.vault)) > 3

        await until(pilot, imported, 60, "the import")
        await until(pilot, lambda: not isinstance(app.screen, ImportScreen), 10, "the list")
        assert isinstance(app.screen, RecordListScreen)


async def test_a_newline_is_enter(three: Path) -> None:
    """A terminal still in line mode (a password typed while the app starts) sends Enter as a
    newline (ctrl+j): it submits like Enter."""
    app = StrongroomApp(three)
    async with app.run_test(size=SIZE) as pilot:
        burst(pilot, *keys_of(PW), "ctrl+j")
        await on_screen(pilot, RecordListScreen, 60)
