"""The app's import screen on files locked with their own password (keys only, Pilot): it asks in
a masked field, says when the password is wrong, offers a key file for KeePass databases, and
then shows the preview as for any file (real samples: tests/data/SOURCES.md)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from pilotkit import typed, until
from textual.widgets import Input

from tui.app import StrongroomApp
from tui.screens.importer import ImportScreen
from tui.screens.records import RecordListScreen
from vault.records import new_record
from vault.vault import Vault

PW = "locked import screen password"
SIZE = (100, 30)
REAL = Path(__file__).resolve().parents[1] / "data" / "import" / "real"


@pytest.fixture
def vault_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    v = Vault.create(home, "ann@example.com", PW)
    v.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-secret"}))
    v.close()
    work = tmp_path / "work"
    work.mkdir()
    for name in (
        "keepassxc-NewDatabase.kdbx",
        "keepassxc-KeyFileProtected.kdbx",
        "keepassxc-KeyFileProtected.key",
        "keepassxc-bitwarden_encrypted_argon2id_export.json",
    ):
        shutil.copy(REAL / name, work / name)
    monkeypatch.chdir(work)
    return home


def _text(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def _asked(pilot: Any, app: StrongroomApp, name: str) -> ImportScreen:
    """Unlock, open Import, give the file, Enter on the guessed format: the password is asked."""
    await until(pilot, lambda: type(app.screen).__name__ == "LockScreen")
    await typed(pilot, PW)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
    await pilot.press("i")
    await until(pilot, lambda: isinstance(app.screen, ImportScreen))
    screen: ImportScreen = app.screen  # type: ignore[assignment]
    await typed(pilot, name)
    await pilot.press("enter")
    await pilot.pause(0.1)
    await pilot.press("enter")
    await until(pilot, lambda: screen.query_one("#import-secret").display, 60)
    assert screen.focused is screen.query_one("#file-password", Input)
    return screen


async def _submit(pilot: Any, screen: ImportScreen, password: str) -> None:
    field = screen.query_one("#file-password", Input)
    await typed(pilot, password)
    drawn = "".join(seg.text for y in range(field.size.height) for seg in field.render_line(y))
    assert field.password and password not in drawn and "•" * len(password) in drawn  # masked
    await pilot.press("enter")
    await until(
        pilot,
        lambda: (
            screen.preview is not None
            or "do not open" in _text(screen, "#import-status")
            or "does not open" in _text(screen, "#import-status")
        ),
        60,  # a KDBX 4 or Argon2id export's KDF (64 MiB) on a loaded machine
    )


async def test_kdbx_asks_for_its_password_says_wrong_then_previews(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _asked(pilot, app, "keepassxc-NewDatabase.kdbx")
        assert "KeePass" in _text(screen, "#guess")
        assert "Password of keepassxc-NewDatabase.kdbx" in _text(screen, "#secret-label")
        await _submit(pilot, screen, "wrong one")
        assert screen.preview is None and "does not open" in _text(screen, "#import-status")
        assert screen.focused is screen.query_one("#file-password", Input)
        await _submit(pilot, screen, "a")
        assert screen.preview is not None
        shown = _text(screen, "#preview-text")
        assert "Read 2 entries" in shown and "Not imported" not in shown  # the file comes too
        assert screen.query_one("#file-password", Input).value == ""  # not kept
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
    v = Vault.open(vault_home)
    v.unlock(PW)
    assert sorted(s.title for s in v.summaries()) == ["GitHub", "Sample Entry", "Subgroup Entry"]
    v.close()


async def test_kdbx_with_password_and_key_file(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _asked(pilot, app, "keepassxc-KeyFileProtected.kdbx")
        assert screen.query_one("#key-file").display
        await typed(pilot, "a")
        await pilot.press("tab")
        await typed(pilot, "keepassxc-KeyFileProtected.key")
        await pilot.press("enter")
        await until(pilot, lambda: screen.preview is not None, 60)
        assert "New, will be imported: 2" in _text(screen, "#preview-text")


async def test_password_protected_bitwarden_export(vault_home: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _asked(pilot, app, "keepassxc-bitwarden_encrypted_argon2id_export.json")
        assert not screen.query_one("#key-file").display  # a key file is KeePass's alone
        await _submit(pilot, screen, "b")
        assert "does not open" in _text(screen, "#import-status")
        await _submit(pilot, screen, "a")
        assert "KeePassXC" in _text(screen, "#preview-text")
