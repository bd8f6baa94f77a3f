"""A record's files in the app (issue 22), by keys only: the record view lists them, f opens the
files screen, a adds one from a typed path, s saves the chosen one to a typed path byte-exact,
d + y removes it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pilotkit import on_screen, one_login_home, typed, unlock, until

from tui.app import StrongroomApp
from tui.screens.files import FilesScreen, PathPrompt
from tui.screens.records import ConfirmScreen, RecordDetailScreen
from vault import attachstore
from vault.vault import Vault

PW = "files app password"


async def _erase(pilot: object, n: int) -> None:
    for _ in range(n):
        await pilot.press("backspace")


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


def _viewer(bin_dir: Path, code: int) -> None:
    """A stand-in for xdg-open (the system's program, not ours): it copies the file it is given,
    with its mode and its folder's mode, to $VIEWED, then exits with `code`."""
    bin_dir.mkdir()
    script = bin_dir / "xdg-open"
    script.write_text(
        "#!/bin/sh\n"
        'cp "$1" "$VIEWED"\n'
        'stat -c "%a %n" "$1" "$(dirname "$1")" > "$VIEWED.modes"\n'
        f"exit {code}\n"
    )
    script.chmod(0o755)


async def _files_of_first_record(pilot: object, app: StrongroomApp) -> FilesScreen:
    await unlock(pilot, PW)
    await until(pilot, lambda: app.screen.query_one("#records").rows, what="rows")
    await pilot.press("enter")
    await on_screen(pilot, RecordDetailScreen)
    await pilot.press("f")
    await on_screen(pilot, FilesScreen)
    assert isinstance(app.screen, FilesScreen)
    return app.screen


def _home_with_a_file(tmp_path: Path, data: bytes) -> Path:
    home = one_login_home(tmp_path / "h", PW)
    src = tmp_path / "passport.pdf"
    src.write_bytes(data)
    v = Vault.open(home)
    v.unlock(PW)
    attachstore.add(v, v.find("GitHub"), src)
    v.close()
    return home


async def test_open_hands_a_private_copy_in_memory_to_the_viewer_and_lock_deletes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """o: the viewer gets the file byte-exact, 0600 in a 0700 folder of $XDG_RUNTIME_DIR;
    locking (here, from the files screen) deletes the copy, and a copy left by an app that is
    gone is deleted by the next open."""
    import subprocess

    from tui.screens.account import LockScreen

    data = os.urandom(200_000)
    home = _home_with_a_file(tmp_path, data)
    _viewer(tmp_path / "bin", 0)
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    dead = subprocess.Popen(["true"])  # a process that has ended: its pid names no app
    dead.wait()
    stale = run / f"strongroom-open-{dead.pid}-abc"
    stale.mkdir()
    (stale / "old.pdf").write_bytes(b"left by a crash")
    viewed = tmp_path / "viewed"
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    monkeypatch.setenv("VIEWED", str(viewed))
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _files_of_first_record(pilot, app)
        await pilot.press("o")
        status = screen.query_one("#files-status")
        await until(pilot, lambda: "Opened" in str(status.render()), seconds=20, what="opened")
        assert viewed.read_bytes() == data
        modes = (tmp_path / "viewed.modes").read_text().split("\n")
        copy = Path(modes[0].split(" ", 1)[1])
        assert modes[0].startswith("600 ") and modes[1].startswith("700 ")
        assert copy.parent.parent == run and copy.name == "passport.pdf" and copy.exists()
        assert not stale.exists()  # its app is gone
        await pilot.press("ctrl+l")
        await on_screen(pilot, LockScreen)
        assert not copy.exists() and not copy.parent.exists()


async def test_open_says_why_when_no_viewer_can_show_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No graphical session (over SSH), no xdg-open, or xdg-open failing: the screen says so and
    points at saving instead; nothing is left in the memory folder."""
    home = _home_with_a_file(tmp_path, b"%PDF-1.4 passport")
    _viewer(tmp_path / "bin", 3)
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    monkeypatch.setenv("VIEWED", str(tmp_path / "viewed"))
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _files_of_first_record(pilot, app)
        status = screen.query_one("#files-status")
        await pilot.press("o")
        said = str(status.render())
        assert "no graphical session" in said and "s saves it to a path instead" in said
        monkeypatch.setenv("DISPLAY", ":99")
        await pilot.press("o")
        await until(pilot, lambda: "exit 3" in str(status.render()), seconds=20, what="exit 3")
        assert "xdg-open could not open it" in str(status.render())
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
        await pilot.press("o")
        assert "xdg-open is not installed" in str(status.render())
    assert list(run.iterdir()) == []  # the copy the failing viewer got is gone with the app
