"""The app's import screen on a real sample of every format it reads (issue 21: "in the CLI and
in the app's import screen"), keys only: the file's name typed, its format guessed and named,
the preview, ctrl+s, and the vault then holds exactly the new records the CLI's plan says.

Locked files (.kdbx, password-protected Bitwarden), pass stores and a file that could be two
formats have their own screen tests (test_import_locked_screen.py, test_import_screen.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pilotkit import typed, until

from tui.app import StrongroomApp
from tui.screens.importer import ImportScreen
from tui.screens.records import RecordListScreen
from tui.widgets.record_list import RecordList
from vault.importers import read_file
from vault.importers.apply import plan
from vault.importers.registry import LABELS
from vault.records import new_record
from vault.vault import Vault

PW = "import test password"
SIZE = (100, 30)
DATA = Path(__file__).resolve().parents[1] / "data" / "import"
REAL = DATA / "real"
#: One sample per format: other projects' real exports (tests/data/SOURCES.md), and the
#: project's own fixtures where no public sample of that format was found (1pux, mSecure).
SAMPLES = {
    "lastpass-csv": REAL / "passimport-lastpass.csv",
    "nordpass-csv": REAL / "passimport-nordpass.csv",
    "roboform-csv": REAL / "passimport-roboform.csv",
    "keepass-csv": REAL / "passimport-keepassx2.csv",
    "keepass-xml": REAL / "passimport-keepass.xml",
    "1password-csv": REAL / "passimport-1password8.csv",
    "1password-1pif": REAL / "passimport-1password.1pif",
    "1password-1pux": DATA / "1password.1pux",
    "chrome-csv": REAL / "passimport-chrome.csv",
    "firefox-csv": REAL / "passimport-firefox.csv",
    "bitwarden-csv": REAL / "passimport-bitwarden.csv",
    "bitwarden-json": REAL / "passimport-bitwarden-other.json",
    "keeper-csv": REAL / "passimport-keeper.csv",
    "keeper-json": REAL / "protonpass-keeper.json",
    "dashlane-csv": REAL / "protonpass-dashlane-credentials.csv",
    "dashlane-json": REAL / "passimport-dashlane.json",
    "protonpass-json": REAL / "bitwarden-protonpass.json",
    "enpass-json": REAL / "passimport-enpass.json",
    "msecure-csv": DATA / "msecure.csv",
}


@pytest.fixture
def vault_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    v = Vault.create(home, "ann@example.com", PW)
    v.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-secret"}))
    v.close()
    return home


def _titles(home: Path) -> list[str]:
    v = Vault.open(home)
    v.unlock(PW)
    try:
        return sorted(s.title for s in v.summaries())
    finally:
        v.close()


def _planned(home: Path, fmt: str, path: Path) -> list[str]:
    """The titles the CLI's import would add to this vault (nothing written)."""
    v = Vault.open(home)
    v.unlock(PW)
    try:
        return [r.display_title for r in plan(v, read_file(fmt, path)).added]
    finally:
        v.close()


def _text(screen: ImportScreen, selector: str) -> str:
    return str(screen.query_one(selector).render())


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
async def test_every_format_is_guessed_previewed_and_imported(
    fmt: str, vault_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = SAMPLES[fmt]
    work = tmp_path / "work"
    work.mkdir()
    name = "export" + "".join(source.suffixes)
    shutil.copy(source, work / name)
    monkeypatch.chdir(work)
    expected = _planned(vault_home, fmt, work / name)
    assert expected  # every sample has something new to import

    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "LockScreen")
        await typed(pilot, PW)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, ImportScreen))
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        await typed(pilot, name)
        await pilot.press("enter")
        await until(pilot, lambda: LABELS[fmt] in _text(screen, "#guess"))
        await pilot.press("enter")
        await until(
            pilot,
            lambda: (
                screen.preview is not None or "Cannot import" in _text(screen, "#import-status")
            ),
        )
        assert screen.preview is not None, _text(screen, "#import-status")
        assert screen.preview.report.format == fmt
        assert f"New, will be imported: {len(expected)}" in _text(screen, "#preview-text")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
        await until(pilot, lambda: len(app.screen.query_one(RecordList).rows) == 1 + len(expected))
    assert _titles(vault_home) == sorted(["GitHub", *expected])
