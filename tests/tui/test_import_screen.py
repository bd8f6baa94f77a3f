"""The import and export screens driven with the keyboard only (Pilot), on real vault files.

Import: file (with completion) → format (guessed) → preview → ctrl+s; re-import skips all;
a truncated file or Esc leaves the vault unchanged. Export: format → path → plaintext
confirmation → a 0600 file that imports again.
"""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from pilotkit import typed, until
from textual.widgets import ProgressBar

from bench.imports import bitwarden_doc
from tui.app import StrongroomApp
from tui.screens.importer import ExportScreen, ImportScreen, PlaintextConfirmScreen
from tui.screens.records import RecordListScreen
from tui.widgets.path_input import PathInput
from tui.widgets.record_list import RecordList
from vault.importers import import_report, read_file
from vault.records import new_record
from vault.vault import Vault

PW = "import test password"
SIZE = (100, 30)
DATA = Path(__file__).resolve().parents[1] / "data" / "import"
BITWARDEN_NEW = (
    7  # every readable entry of the fixture (the two "Fastmail" logins differ in username)
)


@pytest.fixture
def vault_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    v = Vault.create(home, "ann@example.com", PW)
    v.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-secret"}))
    v.close()
    return home


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder the app was started from, holding the export files (typed as short relative paths)."""
    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    shutil.copy(DATA / "bitwarden.json", work / "bw.json")
    monkeypatch.chdir(work)
    return work


def _titles(home: Path) -> list[str]:
    v = Vault.open(home)
    v.unlock(PW)
    try:
        return sorted(s.title for s in v.summaries())
    finally:
        v.close()


async def _open_import(pilot: Any, app: StrongroomApp) -> ImportScreen:
    await until(pilot, lambda: type(app.screen).__name__ == "LockScreen")
    await typed(pilot, PW)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
    await pilot.press("i")
    await until(pilot, lambda: isinstance(app.screen, ImportScreen))
    return app.screen  # type: ignore[return-value]


def _text(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def _preview(pilot: Any, app: StrongroomApp, name: str) -> ImportScreen:
    """Type the file name, Enter (format guessed), Enter (read); wait for the preview or an error."""
    screen = await _open_import(pilot, app)
    await typed(pilot, name)
    await pilot.press("enter")
    await pilot.pause(0.1)
    await pilot.press("enter")
    await until(
        pilot,
        lambda: screen.preview is not None or "Cannot import" in _text(screen, "#import-status"),
    )
    return screen


async def test_bitwarden_import_preview_confirm_then_reimport_skips_all(
    vault_home: Path, workdir: Path
) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _preview(pilot, app, "bw.json")
        assert "Bitwarden (JSON" in _text(screen, "#guess")  # guessed from the file
        shown = _text(screen, "#preview-text")
        assert "Read 7 entries" in shown and f"New, will be imported: {BITWARDEN_NEW}" in shown
        assert "Login 3" in shown and "Credit Card 1" in shown
        assert "item 8: unknown Bitwarden item type 99" in shown  # problems with their item numbers
        assert "Fastmail" in shown and "fm-password" not in shown  # titles, never passwords
        assert _titles(vault_home) == ["GitHub"]  # a preview changes nothing
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
        await until(pilot, lambda: len(app.screen.query_one(RecordList).rows) == 1 + BITWARDEN_NEW)
    titles = _titles(vault_home)
    assert len(titles) == 1 + BITWARDEN_NEW and "Visa" in titles and "Server key" in titles

    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _preview(pilot, app, "bw.json")
        shown = _text(screen, "#preview-text")
        assert "New, will be imported: 0" in shown and "skipped: 7" in shown
        assert "already in this vault" in shown
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
    assert len(_titles(vault_home)) == 1 + BITWARDEN_NEW


async def test_a_large_file_reads_and_imports_while_the_screen_keeps_running(
    vault_home: Path, workdir: Path
) -> None:
    n = 2_000
    (workdir / "big.json").write_text(json.dumps(bitwarden_doc(n)), encoding="utf-8")
    app = StrongroomApp(home=vault_home)
    ticks: list[bool] = []  # each: was the progress bar showing
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_import(pilot, app)
        await typed(pilot, "big.json")
        await pilot.press("enter")
        await pilot.pause(0.1)
        bar = screen.query_one("#import-progress", ProgressBar)
        app.set_interval(0.01, lambda: ticks.append(bar.display))
        await pilot.press("enter")
        await until(pilot, lambda: screen.preview is not None)
        assert len(ticks) >= 5, "the screen stalled while the file was read"
        assert any(ticks) and not bar.display  # shown while reading, gone with the preview
        assert f"New, will be imported: {n:,}" in _text(screen, "#preview-text")
        before = len(ticks)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
        assert len(ticks) - before >= 5, "the screen stalled while the records were added"
        rows = app.screen.query_one(RecordList)
        await until(pilot, lambda: len(rows.rows) == n + 1, what="the list to show every record")
    assert len(_titles(vault_home)) == n + 1


async def test_truncated_file_is_refused_by_name_and_vault_unchanged(
    vault_home: Path, workdir: Path
) -> None:
    data = (DATA / "bitwarden.json").read_bytes()
    (workdir / "cut.json").write_bytes(data[: len(data) * 2 // 3])
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _preview(pilot, app, "cut.json")
        status = _text(screen, "#import-status")
        assert "Cannot import cut.json" in status and "is the file complete" in status
        assert "Nothing was imported" in status and screen.preview is None
        await pilot.press("ctrl+s")  # nothing to confirm
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
    assert _titles(vault_home) == ["GitHub"]


async def test_wrong_format_is_named(vault_home: Path, workdir: Path) -> None:
    shutil.copy(DATA / "chrome.csv", workdir / "c.csv")
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_import(pilot, app)
        await typed(pilot, "c.csv")
        await pilot.press("enter")
        await pilot.pause(0.1)
        await pilot.press("home", "enter")  # strongroom-json, the first format, for a Chrome CSV
        await until(pilot, lambda: "Cannot import" in _text(screen, "#import-status"))
        assert "not a" in _text(screen, "#import-status")
    assert _titles(vault_home) == ["GitHub"]


async def test_no_file_or_a_folder_is_said_before_reading(vault_home: Path, workdir: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_import(pilot, app)
        await pilot.press("enter")
        assert "Type the path" in _text(screen, "#import-status")
        await typed(pilot, "nope.json")
        await pilot.press("enter")
        assert "There is no file at" in _text(screen, "#import-status")
        await pilot.press("ctrl+u")  # clear the field
        await typed(pilot, "data")
        await pilot.press("enter")
        assert "There is a folder at" in _text(screen, "#import-status")
        assert screen.query_one("#file", PathInput).has_focus and screen.preview is None


async def test_escape_on_the_preview_changes_nothing(vault_home: Path, workdir: Path) -> None:
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _preview(pilot, app, "bw.json")
        assert screen.preview is not None
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
        assert len(app.screen.query_one(RecordList).rows) == 1
    assert _titles(vault_home) == ["GitHub"]


async def test_tab_completes_a_folder(vault_home: Path, workdir: Path) -> None:
    (workdir / "data" / "export.csv").write_text("x")
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_import(pilot, app)
        field = screen.query_one("#file", PathInput)
        await typed(pilot, "da")
        await until(pilot, lambda: field._suggestion == "data/")
        await pilot.press("tab")
        assert field.value == "data/" and field.has_focus
        await until(pilot, lambda: field._suggestion == "data/export.csv")
        await pilot.press("tab")
        assert field.value == "data/export.csv"
        await pilot.press("tab")  # nothing left to complete: tab moves on
        assert not field.has_focus


async def test_export_confirms_plaintext_writes_0600_that_reimports(
    vault_home: Path, workdir: Path
) -> None:
    app = StrongroomApp(home=vault_home, kit_dir=workdir)
    async with app.run_test(size=SIZE) as pilot:
        await _open_import(pilot, app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
        await pilot.press("ctrl+p")
        await typed(pilot, "Export")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        await pilot.press("enter")  # json, the first format
        field = app.screen.query_one("#export-path", PathInput)
        assert (
            field.has_focus
            and field.value.startswith(str(workdir))
            and field.value.endswith(".json")
        )
        await pilot.press("ctrl+u")  # clear the default name
        await typed(pilot, "out.json")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PlaintextConfirmScreen))
        assert "NOT encrypted" in _text(app.screen, "#dialog Static")
        assert not (workdir / "out.json").exists()  # nothing before the answer
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
        assert any(str(workdir / "out.json") in str(n.message) for n in app._notifications)
    out = workdir / "out.json"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    other = Vault.create(workdir / "other", "bob@example.com", PW)
    result = import_report(other, read_file("strongroom-json", out))
    assert [r.title for r in result.added] == ["GitHub"] and result.added[0].value(
        "password"
    ) == "gh-secret"
    other.close()


async def test_export_no_writes_nothing(vault_home: Path, workdir: Path) -> None:
    app = StrongroomApp(home=vault_home, kit_dir=workdir)
    async with app.run_test(size=SIZE) as pilot:
        await _open_import(pilot, app)
        app.action_export_records()
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        await pilot.press("down", "enter")  # csv
        field = app.screen.query_one("#export-path", PathInput)
        assert field.value.endswith(".csv")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PlaintextConfirmScreen))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        assert "nothing was written" in _text(app.screen, "#export-status")
    assert list(workdir.glob("strongroom-export-*")) == []


def test_import_preview_snapshot(snap_compare: Any, vault_home: Path, workdir: Path) -> None:
    async def run(pilot: Any) -> None:
        await _preview(pilot, pilot.app, "bw.json")
        await pilot.pause(0.3)

    assert snap_compare(StrongroomApp(home=vault_home), run_before=run, terminal_size=SIZE)


def test_export_confirmation_snapshot(snap_compare: Any, vault_home: Path, workdir: Path) -> None:
    async def run(pilot: Any) -> None:
        await _open_import(
            pilot, pilot.app
        )  # over this screen: the export screen's default name holds today's date
        pilot.app.push_screen(
            PlaintextConfirmScreen(Path("/home/ann/strongroom-export-2026-11-29.json"), True)
        )
        await pilot.pause(0.3)

    assert snap_compare(StrongroomApp(home=vault_home), run_before=run, terminal_size=SIZE)


async def test_preview_counts_and_names_what_is_not_imported(
    vault_home: Path, workdir: Path
) -> None:
    """A real Bitwarden export with passkeys (KeePassXC's test file): the preview says how many
    are left out and which items they belong to, before anything is imported."""
    shutil.copy(DATA / "real" / "keepassxc-bitwarden_passkey_export.json", workdir / "pk.json")
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _preview(pilot, app, "pk.json")
        shown = _text(screen, "#preview-text")
        assert "Not imported: 2 passkeys" in shown
        assert "item 1: its passkey for webauthn.io" in shown
        assert "New, will be imported: 2" in shown


async def test_an_ambiguous_file_shows_its_candidates_first_and_the_user_picks(
    vault_home: Path, workdir: Path
) -> None:
    """pass-import's 1Password 4 CSV (lower-case title,…,url) could be 1Password or Apple: both
    are named, listed first, and ↓ Enter reads it as the second one the user chose."""
    from textual.widgets import OptionList

    shutil.copy(DATA / "real" / "passimport-1password4.csv", workdir / "pw.csv")
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_import(pilot, app)
        await typed(pilot, "pw.csv")
        await pilot.press("enter")
        await pilot.pause(0.1)
        guess = _text(screen, "#guess")
        assert "1Password (CSV) or Apple Passwords / Safari (CSV)" in guess and "pick" in guess
        options = screen.query_one("#format", OptionList)
        first_two = [options.get_option_at_index(i).id for i in (0, 1)]
        assert first_two == ["1password-csv", "apple-csv"]
        assert options.highlighted == 0
        await pilot.press("down", "enter")
        await until(
            pilot,
            lambda: (
                screen.preview is not None or "Cannot import" in _text(screen, "#import-status")
            ),
        )
        assert screen.preview is not None and screen.preview.report.format == "apple-csv"
        assert "Apple Passwords" in _text(screen, "#preview-text")


async def test_a_dashlane_zip_is_guessed_and_previewed(vault_home: Path, workdir: Path) -> None:
    import zipfile

    with zipfile.ZipFile(workdir / "dashlane.zip", "w") as zf:
        for table, member in (("credentials", "credentials.csv"), ("payments", "payments.csv")):
            zf.write(DATA / "real" / f"protonpass-dashlane-{table}.csv", member)
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _preview(pilot, app, "dashlane.zip")
        assert "Dashlane (CSV zip" in _text(screen, "#guess")
        shown = _text(screen, "#preview-text")
        assert "Read 11 entries" in shown and "Credit Card 3" in shown
        assert "ndnndc" not in shown  # a password of the file: titles and usernames only


@pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed")
async def test_a_pass_store_folder_is_guessed_and_read_through_gpg(
    vault_home: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pass-import's real store, opened with its own test keyring (no passphrase): the folder
    is accepted, guessed, and read without gpg asking anything on the app's terminal."""
    from gpgkit import gnupg_home

    shutil.copytree(DATA / "real" / "passimport-pass-store", workdir / "store")
    with gnupg_home(DATA / "real" / "passimport-gnupg") as gnupg:
        monkeypatch.setenv("GNUPGHOME", str(gnupg))
        app = StrongroomApp(home=vault_home)
        async with app.run_test(size=SIZE) as pilot:
            screen = await _preview(pilot, app, "store")
            assert "pass / gopass store" in _text(screen, "#guess")
            shown = _text(screen, "#preview-text")
            assert "Read 15 entries" in shown and "Login 13" in shown
            assert "aib" in shown and "ws5T@" not in shown  # titles, never passwords


@pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed")
async def test_a_store_whose_key_has_a_passphrase_asks_for_it_in_a_masked_field(
    vault_home: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gpg may not prompt over the app: the screen asks for the key's passphrase itself (masked),
    says when gpg refuses it, and reads the store with the right one."""
    from gpgkit import gnupg_home, make_store, throwaway_key
    from textual.widgets import Input

    with gnupg_home() as gnupg:
        monkeypatch.setenv("GNUPGHOME", str(gnupg))
        monkeypatch.delenv("STRONGROOM_IMPORT_PASSWORD", raising=False)
        key = throwaway_key(gnupg, "store key passphrase")
        make_store(gnupg, workdir / "store", key, {"Mail/ann": b"mail-pw\nuser: ann\n"})
        app = StrongroomApp(home=vault_home)
        async with app.run_test(size=SIZE) as pilot:
            screen = await _open_import(pilot, app)
            await typed(pilot, "store")
            await pilot.press("enter")
            await pilot.pause(0.1)
            await pilot.press("enter")
            field = screen.query_one("#file-password", Input)
            await until(pilot, lambda: field.has_focus)
            assert "passphrase" in _text(screen, "#import-status") and screen.preview is None
            assert field.password  # masked
            await typed(pilot, "not the passphrase")
            await pilot.press("enter")
            await until(pilot, lambda: "refused" in _text(screen, "#import-status"))
            await typed(pilot, "store key passphrase")
            await pilot.press("enter")
            await until(pilot, lambda: screen.preview is not None)
            shown = _text(screen, "#preview-text")
            assert "Read 1 entry" in shown and "mail-pw" not in shown
